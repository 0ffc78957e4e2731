#!/usr/bin/env python3
"""Converts OpenSanctions' fingerprints company-type list (types.yml, MIT licence, see LICENSES.md) into
legal_forms.json: {canonical form: [normalised variants]}.

Usage:  python3 make_legal_forms.py [fingerprints-types.yml] [legal_forms.json]
The YAML is fingerprints/types/types.yml of the public repository opensanctions/fingerprints; README.md says which
version was converted and how to get it. It is not kept in this folder.

Normalisation of every name (the canonical form and each variant):
  lower case; accents stripped from Latin letters (ł, ø, đ, ß, æ, œ, ı spelled out too); letters of other
  scripts kept as they are (ооо stays Cyrillic); punctuation and symbols removed; runs of spaces made one.
A form with punctuation inside is listed twice: with the punctuation deleted ("s.a." -> "sa") and with it
read as a space ("s.a." -> "s a"), since both spellings occur in data.
As in fingerprints' own replacer, a normalised variant that two types share stays with the type listed
first in the YAML; the others are reported on stderr and left out.
"""
import json, sys, unicodedata

import yaml

SPELL_OUT = {'ł': 'l', 'ø': 'o', 'đ': 'd', 'ß': 'ss', 'æ': 'ae', 'œ': 'oe', 'ı': 'i', 'ħ': 'h', 'þ': 'th'}


def strip_latin_accents(text):
    out = []
    for ch in unicodedata.normalize('NFD', text):
        if unicodedata.combining(ch) and out and unicodedata.name(out[-1], '').startswith('LATIN'):
            continue
        out.append(SPELL_OUT.get(ch, ch))
    return unicodedata.normalize('NFC', ''.join(out))


def is_punct(ch):
    return unicodedata.category(ch)[0] in 'PS'


def variants(name):
    text = strip_latin_accents(name.lower())
    deleted = ' '.join(''.join('' if is_punct(c) else c for c in text).split())
    spaced = ' '.join(''.join(' ' if is_punct(c) else c for c in text).split())
    return [v for v in dict.fromkeys([deleted, spaced]) if v]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else 'fingerprints-types.yml'
    out = sys.argv[2] if len(sys.argv) > 2 else 'legal_forms.json'
    with open(src, encoding='utf-8') as fh:
        types = yaml.safe_load(fh)['types']
    table, owner, dropped = {}, {}, 0
    for entry in types:
        key = variants(entry['main'])[0]
        names = table.setdefault(key, [])
        for form in [entry['main']] + list(entry['forms']):
            for v in variants(form):
                if v in owner and owner[v] != key:
                    print(f'{v!r} of {key!r} is already a form of {owner[v]!r}; left with {owner[v]!r}', file=sys.stderr)
                    dropped += 1
                    continue
                owner[v] = key
                if v not in names:
                    names.append(v)
    table = {k: [k] + sorted(v for v in vs if v != k) for k, vs in sorted(table.items())}
    with open(out, 'w', encoding='utf-8') as fh:
        json.dump(table, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write('\n')
    print(f'{len(types)} types, {len(table)} canonical forms, {sum(map(len, table.values()))} variants, '
          f'{dropped} shared variants left with their first type', file=sys.stderr)


if __name__ == '__main__':
    main()
