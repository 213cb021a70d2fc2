/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Text-like page contents (XPAGE_SIM_GUEST_TEXT), shared by the
 * simulator's oracle and xpage-bench's compression figures.
 */
#ifndef SIM_TEXT_H
#define SIM_TEXT_H

#include <stdint.h>

/* Eight bytes of text made from 64 random bits @m: mostly a word of a
 * fixed vocabulary of 256 (the first ones far more often, as in prose),
 * one time in four eight random letters. Never zero. */
uint64_t sim_text_word(uint64_t m);

#endif
