#!/usr/bin/env python3
"""Writes customers.csv: 10,000 made-up customer names from the locales of the communities a Nzila credit union
serves (Faker, MIT, from PyPI; seeded, so the file is the same on every run with the same Faker version).

    pip install faker==<version in customers.csv's header comment> && python3 make_customers.py

Weights: Nigeria (English, Yoruba, Igbo, Hausa; Hausa also stands in for the Muslim naming of the Sahel, Sudan and
Somalia, which Faker lacks), Ghana (Twi), Kenya (English, Swahili), South Africa (Zulu), the Maghreb (French of
Algeria), francophone West and Central Africa and Haiti (French of France and Quebec, the nearest Faker has), the Arab
world in its own script (Palestine, Saudi Arabia), and Canada (English and French). Faker's am_ET and ar_EG give
English names (no person provider), so they are not used."""
import csv, io, sys
from importlib.metadata import version
from faker import Faker

WEIGHTS = [("en_NG", 12), ("yo_NG", 8), ("ig_NG", 8), ("ha_NG", 10), ("tw_GH", 8), ("en_KE", 6), ("sw", 6), ("zu_ZA", 4),
           ("fr_DZ", 8), ("fr_FR", 8), ("ar_PS", 3), ("ar_SA", 3), ("en_CA", 9), ("fr_CA", 7)]
TOTAL = 10_000

out = io.StringIO()
out.write(f"# made up by make_customers.py with Faker {version('faker')}, seed 24\n")
writer = csv.writer(out, lineterminator="\n")
writer.writerow(["id", "locale", "name"])
n = 0
for locale, weight in WEIGHTS:
    fake = Faker(locale)
    fake.seed_instance(24)
    for i in range(TOTAL * weight // 100):
        n += 1
        # About one customer in five gives a middle name, as account-opening forms ask for it.
        first, last = fake.first_name(), fake.last_name()
        name = f"{first} {fake.first_name()} {last}" if i % 5 == 0 else f"{first} {last}"
        writer.writerow([f"c{n:05d}", locale, name])
sys.stdout.write(out.getvalue())
