/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef XPAGE_PRIVATE_H
#define XPAGE_PRIVATE_H
#include "xpage/xpage.h"
#include "backend.h"
#endif
