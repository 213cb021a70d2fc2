#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""sized-prefix.py BASELINE.abi NEW.abi OUT.abi

Cut what a sized struct gained at its end since the baseline out of NEW,
so that abidiff can then be strict about everything else.

A sized struct is one whose first member, at offset 0, is `size_t sz` in
the baseline: the library reads only the first sz bytes of what a caller
passes and fills only the first sz bytes a caller provides, so members
appended at the end break nobody. In OUT, a sized struct that grew, and
whose members past its baseline size are all new ones, loses those
members and gets its baseline size back. Everything else is left alone:
a member inserted in the middle (which pushes a published member past the
old end), retyped or removed still differs from the baseline, and abidiff
reports it. A member renamed in place with its type kept (a removed field
turned into padding) is a harmless change for abidiff.

(libabigail's own `has_data_member_inserted_at = end` suppression is not
used because it also hides a member whose type changed in place.)
"""
import sys
import xml.etree.ElementTree as ET


def sized_structs(root):
    """name -> size in bits of the sized structs defined in root."""
    by_id = {e.get('id'): e for e in root.iter() if e.get('id')}
    sized = {}
    for cls in root.iter('class-decl'):
        if cls.get('is-declaration-only') == 'yes' or not cls.get('name'):
            continue
        members = cls.findall('data-member')
        if not members or members[0].get('layout-offset-in-bits') != '0':
            continue
        var = members[0].find('var-decl')
        if var is None or var.get('name') != 'sz':
            continue
        t = by_id.get(var.get('type-id'))
        if t is None or t.tag != 'typedef-decl' or t.get('name') != 'size_t':
            continue
        names = {m.find('var-decl').get('name') for m in members
                 if m.find('var-decl') is not None}
        sized.setdefault(cls.get('name'),
                         (int(cls.get('size-in-bits')), names))
    return sized


def member_name(m):
    var = m.find('var-decl')
    return var.get('name', '?') if var is not None else '?'



def main(base_path, new_path, out_path):
    sized = sized_structs(ET.parse(base_path).getroot())
    tree = ET.parse(new_path)
    for cls in tree.getroot().iter('class-decl'):
        known = sized.get(cls.get('name'))
        if known is None or cls.get('is-declaration-only') == 'yes':
            continue
        old, old_names = known
        new = int(cls.get('size-in-bits'))
        if new <= old:
            continue  # unchanged, or shrunk: abidiff reports the latter
        tail = [m for m in cls.findall('data-member')
                if int(m.get('layout-offset-in-bits', '0')) >= old]
        if any(member_name(m) in old_names for m in tail):
            continue  # a published member moved: abidiff reports it
        for m in tail:
            cls.remove(m)
        cls.set('size-in-bits', str(old))
        print('sized struct %s grew from %d to %d bits at its end (%s): allowed'
              % (cls.get('name'), old, new,
                 ', '.join(member_name(m) for m in tail) or 'padding'))
    tree.write(out_path, encoding='unicode')


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
