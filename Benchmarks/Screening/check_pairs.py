#!/usr/bin/env python3
"""Validates pairs.csv and prints its counts by category and label.

Usage:  python3 check_pairs.py [pairs.csv]
Exits 1 when a check fails. Checks: UTF-8, the header, seven fields a row, ids p0001... unique, the allowed
kinds, categories and labels, non-empty names without stray whitespace, the form of source, no (query,
list_name) pair twice (also after case and punctuation are folded, in either order), at least 700 rows, and at
least 20 matches and 20 non-matches in every category that has both (20 non-matches for `unrelated`).
"""
import collections, csv, re, sys, unicodedata

HEADER = ['id', 'kind', 'category', 'query', 'list_name', 'label', 'source']
KINDS = {'person', 'organisation', 'vessel'}
LABELS = {'match', 'nonmatch'}
CATEGORIES = ['legal_form', 'abbreviation', 'extra_word', 'numeral', 'plural', 'one_letter', 'spacing',
              'transliteration', 'script', 'word_order', 'vessel_prefix', 'alias', 'common_name', 'unrelated']
NONMATCH_ONLY = {'unrelated'}
MIN_ROWS, MIN_PER_LABEL = 700, 20
SOURCE_ONE = r'(?:OFAC SDN \d+|UN SC [A-Z][A-Za-z]+\.\d+)'
SOURCE_RE = re.compile(rf'constructed|{SOURCE_ONE}(?:; {SOURCE_ONE})?')


def fold(s):
    s = unicodedata.normalize('NFKD', s)
    s = ''.join(c for c in s if not unicodedata.combining(c)).lower()
    return ' '.join(re.sub(r'[^\w]+', ' ', s).split())


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else 'pairs.csv'
    errors = []
    try:
        with open(path, encoding='utf-8', newline='') as fh:
            rows = list(csv.reader(fh))
    except UnicodeDecodeError as e:
        print(f'{path}: not UTF-8: {e}')
        return 1
    if not rows or rows[0] != HEADER:
        errors.append(f'header is {rows[0] if rows else None}, want {HEADER}')
    ids, pairs, folded, same_when_folded = set(), {}, {}, []
    counts = collections.Counter()
    kinds = collections.Counter()
    sources = collections.Counter()
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != len(HEADER):
            errors.append(f'line {n}: {len(row)} fields')
            continue
        r = dict(zip(HEADER, row))
        where = f"line {n} ({r['id']})"
        if not re.fullmatch(r'p\d{4,}', r['id']):
            errors.append(f'{where}: bad id')
        if r['id'] in ids:
            errors.append(f'{where}: id used twice')
        ids.add(r['id'])
        if r['kind'] not in KINDS:
            errors.append(f"{where}: kind {r['kind']!r}")
        if r['category'] not in CATEGORIES:
            errors.append(f"{where}: category {r['category']!r}")
        if r['label'] not in LABELS:
            errors.append(f"{where}: label {r['label']!r}")
        for field in ('query', 'list_name'):
            v = r[field]
            if not v or v != v.strip() or '\n' in v or '\r' in v or '  ' in v:
                errors.append(f'{where}: {field} empty or with stray whitespace: {v!r}')
        if not SOURCE_RE.fullmatch(r['source']):
            errors.append(f"{where}: source {r['source']!r}")
        key = (r['query'], r['list_name'])
        if key in pairs:
            errors.append(f'{where}: pair already on line {pairs[key]}')
        pairs[key] = n
        fkey = frozenset([fold(r['query']), fold(r['list_name'])])
        if fkey in folded and len(fkey) == 2:
            errors.append(f'{where}: same pair, folded or reversed, as line {folded[fkey]}')
        folded.setdefault(fkey, n)
        if len(fkey) == 1:
            same_when_folded.append(r['id'])
        counts[(r['category'], r['label'])] += 1
        kinds[r['kind']] += 1
        sources['constructed' if r['source'] == 'constructed' else r['source'].split()[0] + ' ' + r['source'].split()[1]] += 1
    total = len(rows) - 1
    if total < MIN_ROWS:
        errors.append(f'{total} rows, want at least {MIN_ROWS}')
    print(f"{'category':16} {'match':>6} {'nonmatch':>9} {'total':>6}")
    for cat in CATEGORIES:
        m, x = counts[(cat, 'match')], counts[(cat, 'nonmatch')]
        print(f'{cat:16} {m:6} {x:9} {m + x:6}')
        if cat in NONMATCH_ONLY:
            if m:
                errors.append(f'{cat}: has {m} matches')
            if x < MIN_PER_LABEL:
                errors.append(f'{cat}: {x} non-matches, want at least {MIN_PER_LABEL}')
        elif m < MIN_PER_LABEL or x < MIN_PER_LABEL:
            errors.append(f'{cat}: {m} matches and {x} non-matches, want at least {MIN_PER_LABEL} of each')
    m = sum(v for (c, lab), v in counts.items() if lab == 'match')
    print(f"{'all':16} {m:6} {total - m:9} {total:6}")
    print('kinds:', dict(sorted(kinds.items())), ' sources:', dict(sorted(sources.items())))
    if same_when_folded:
        print(f'note: {len(same_when_folded)} pairs are equal once case and punctuation are folded:', ' '.join(same_when_folded))
    for e in errors:
        print('ERROR', e)
    print('OK' if not errors else f'{len(errors)} errors')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
