#!/usr/bin/env python3
"""Builds pairs.csv, the labelled name-screening pairs of issue 24 (see README.md).

Inputs, kept out of the repository (put the three files in one folder, SRC_DIR):
  sdn.csv  OFAC SDN primary records as of 02 May 2024: file sdn.csv at commit a6ab072f37ae of the public
           git-scrape repository jackdwyer/specially-designated-nationals-list (a copy of OFAC's sdn.csv)
           sha256 36a3ef82bf77e2537ec40fc7c06f758db637f2ed883dcb0e2ab9cfff09fe8196
  alt.csv  OFAC SDN aliases (aka/fka/nka), late-2025 copy: internal/tfidf/testdata/alt.csv of moov-io/watchman
           at commit 2928c9496384 (only aliases of entries present in sdn.csv are used)
           sha256 f8c1cab56b08fb83ab4c06a4b9823c042ae645b853858049d076f729152de992
  un.xml   UN Security Council consolidated list generated 27 Feb 2026 (it carries names in original script):
           test/testdata/UN_consolidated.xml of moov-io/watchman at commit 612b2174c775
           sha256 66b392a4090868d2d39161e8d748efd39138377b0e6e60b7921aa67a4f99c8bf
Usage:  python3 build_pairs.py SRC_DIR pairs.csv
Every choice is deterministic (fixed seeds, sorted inputs, explicit entry numbers), so the same inputs give
the same file. Rows whose source is "constructed" hold a string written here (a query, or both sides).
"""
import csv, collections, difflib, random, re, sys, unicodedata
import xml.etree.ElementTree as ET

SRC, OUT = sys.argv[1], sys.argv[2]


def norm(s):
    s = unicodedata.normalize('NFKD', s)
    s = ''.join(c for c in s if not unicodedata.combining(c)).lower()
    return ' '.join(re.sub(r"[^\w]+", " ", s).split())


SDN, ALT = {}, collections.defaultdict(list)
for r in csv.reader(open(f'{SRC}/sdn.csv', encoding='latin-1')):
    if len(r) < 12:
        continue
    t = r[2].strip()
    t = {'-0-': 'organisation', 'individual': 'person'}.get(t, t)
    SDN[r[0]] = dict(name=r[1].strip(), type=t, remarks=r[11])
for a in csv.reader(open(f'{SRC}/alt.csv', encoding='latin-1')):
    if len(a) >= 4 and a[0] in SDN:
        ALT[a[0]].append(a[3].strip())


def P(uid):
    return SDN[uid]['name']


def A(uid, alias):
    assert alias in ALT[uid] or alias == P(uid), (uid, alias, ALT[uid])
    return alias


def K(uid):
    t = SDN[uid]['type']
    assert t in ('person', 'organisation', 'vessel'), (uid, t)
    return t


UN = {}
for tag in ('INDIVIDUAL', 'ENTITY'):
    for e in ET.parse(f'{SRC}/un.xml').getroot().iter(tag):
        parts = [e.findtext(k) or '' for k in ('FIRST_NAME', 'SECOND_NAME', 'THIRD_NAME', 'FOURTH_NAME')]
        UN[e.findtext('REFERENCE_NUMBER')] = dict(
            orig=' '.join((e.findtext('NAME_ORIGINAL_SCRIPT') or '').split()),
            latin=' '.join(' '.join(p.strip() for p in parts if p.strip()).split()),
            kind='person' if tag == 'INDIVIDUAL' else 'organisation')

rows, seen = [], set()


def add(cat, kind, query, list_name, label, source):
    assert kind in ('person', 'organisation', 'vessel') and label in ('match', 'nonmatch'), (kind, label)
    key = (query, list_name)
    if key in seen:
        return False
    assert norm(query) != norm(list_name) or cat in ('script', 'legal_form', 'spacing', 'abbreviation', 'vessel_prefix'), (cat, query, list_name)
    m = re.fullmatch(r'OFAC SDN (\d+); OFAC SDN (\d+)', source)
    if m and not sdn_cross_ok(m.group(1), query, m.group(2), list_name):
        print('skipped, a name shared by both entries:', query, '|', list_name, file=sys.stderr)
        return False
    if label == M and source.startswith('OFAC SDN') and ';' not in source:
        uid = source.split()[-1]
        assert norm(query) in {norm(n) for n in [P(uid)] + ALT[uid]} and norm(list_name) in {norm(n) for n in [P(uid)] + ALT[uid]}
    seen.add(key)
    rows.append([cat, kind, query, list_name, label, source])
    return True


def sdn(*uids):
    if len(uids) == 2:
        assert uids[0] != uids[1]
    return '; '.join(f'OFAC SDN {u}' for u in uids)


C = 'constructed'
M, N = 'match', 'nonmatch'


def lev(a, b):
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


NAME_OWNERS = collections.defaultdict(set)  # normalised name -> SDN entries holding it (primary or alias)
for _u in SDN:
    for _n in [P(_u)] + ALT.get(_u, []):
        NAME_OWNERS[norm(_n)].add(_u)


def same_entity_pairs():
    """(uid, primary, alias) for every alias that no other SDN entry also carries."""
    for uid in sorted(SDN, key=int):
        if SDN[uid]['type'] not in ('person', 'organisation', 'vessel') or len(NAME_OWNERS[norm(P(uid))]) > 1:
            continue
        for a in ALT.get(uid, []):
            if NAME_OWNERS[norm(a)] == {uid}:
                yield uid, P(uid), a


def sdn_cross_ok(a, qa, b, lb):
    """A non-match between entries a and b must not reuse a name that both entries carry."""
    return b not in NAME_OWNERS[norm(qa)] and a not in NAME_OWNERS[norm(lb)]


def pick(cands, n, seed, per_uid=1, exclude=()):
    """Deterministic sample of n candidates (uid, list, query), at most per_uid from one entry."""
    rnd = random.Random(seed)
    cands = list(cands)
    rnd.shuffle(cands)
    out, used = [], collections.Counter()
    for c in cands:
        if used[c[0]] >= per_uid or c[0] in exclude or (c[2], c[1]) in seen:
            continue
        used[c[0]] += 1
        out.append(c)
        if len(out) == n:
            break
    return out


# ---------------------------------------------------------------- legal_form
LFW = {'ltd', 'limited', 'llc', 'co', 'company', 'inc', 'corp', 'corporation', 'gmbh', 'ag', 'jsc', 'pjsc', 'cjsc',
       'ojsc', 'oao', 'zao', 'ooo', 'ao', 'pao', 'fze', 'fzco', 'llp', 'plc', 'pte', 'joint', 'stock', 'liability',
       'open', 'closed', 'public', 'sarl', 'sdn', 'bhd', 'lp'}
cands = []
for uid, p, a in same_entity_pairs():
    pt, at = norm(p).split(), norm(a).split()
    if pt != at and [x for x in pt if x not in LFW] == [x for x in at if x not in LFW] and [x for x in pt if x not in LFW]:
        # both sides keep a legal form, and the forms differ in spelling (not one side dropping it)
        if set(pt) & LFW and set(at) & LFW:
            cands.append((uid, p, a))
for uid, p, a in pick(cands, 16, 1):
    add('legal_form', K(uid), a, p, M, sdn(uid))

for q, uid in [
    ('Sakhatrans Limited Liability Company', '16824'),
    ('ARGON ООО', '40865'),  # Cyrillic OOO
    ('Obshchestvo s Ogranichennoy Otvetstvennostyu Volga Group', '16806'),
    ('West Sun Trade Gesellschaft mit beschränkter Haftung', '11645'),
    ('Logarcheo Société Anonyme', '8214'),
    ('Farmacia Vida Suprema, Sociedad Anónima de Capital Variable', '7157'),
    ('Yuk Tung Energy Private Limited', '23787'),
    ('Doncoaltrade Spółka z ograniczoną odpowiedzialnością', '23579'),
    ('Petropars International Free Zone Establishment', '11634'),
    ('Yamen Benin Société à responsabilité limitée', '12469'),
    ('Irasco Società a responsabilità limitata', '11611'),
    ('Mahan Travel and Tourism Sendirian Berhad', '24706'),
    ('Offenbach Haushaltwaren Besloten Vennootschap', '10600'),
    ('Sberbank Europe Aktiengesellschaft', '18716'),
    ('Kovrov Mechanical Plant Public Joint Stock Company', '42070'),
    ('Pawell Shipping Co Limited Liability Partnership', '43284'),
    ('Bank Saderat Public Limited Company', '4642'),
    ('Colombiana de Cerdos Limitada', '6531'),
]:
    add('legal_form', K(uid), q, P(uid), M, C)
add('legal_form', K('36013'), 'Som Petrol Ticaret A.Ş.', P('36013'), M, C)

# non-matches: distinct SDN entries whose names differ only in the (different) legal form
for a, b in [('11318', '11319'), ('16832', '16834'), ('27591', '27592'), ('40946', '40952'), ('42856', '42859'),
             ('44272', '44274'), ('46707', '46717'), ('47730', '47734'), ('47765', '47780'), ('48059', '48064'),
             ('45991', '46020'), ('46520', '46521'), ('26467', '26585')]:
    add('legal_form', K(b), P(a), P(b), N, sdn(a, b))
# constructed: the listed company's core with another kind of legal form (a different registration), and
# legal-form words that are really part of the name
for q, uid in [
    ('Tamyna GmbH', '40946'), ('Rheingold Edelmetall FZE', '47730'), ('Intellexa GmbH', '48059'),
    ('Alcardinal General Trading FZE', '27591'), ('Welmart Group GmbH', '42856'), ('Ocean Estate AG', '44272'),
    ('Stroytransgaz Sp. z o.o.', '16832'), ('Rimera Sp. z o.o.', '47765'),
]:
    add('legal_form', K(uid), q, P(uid), N, C)

# ---------------------------------------------------------------- abbreviation
AB = {'&': 'and', 'intl': 'international', 'co': 'company', 'corp': 'corporation', 'bros': 'brothers',
      'est': 'establishment', 'gen': 'general', 'mfg': 'manufacturing', 'ind': 'industries', 'mohd': 'mohammed',
      'trdg': 'trading', 'ltd': 'limited', 'imp': 'import', 'exp': 'export'}


def ntok(s):
    s = unicodedata.normalize('NFKD', s.replace('&', ' & '))
    s = ''.join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"[^\w&]+", " ", s).split()


cands = []
for uid, p, a in same_entity_pairs():
    pt, at = ntok(p), ntok(a)
    if pt != at and [AB.get(x, x) for x in pt] == [AB.get(x, x) for x in at]:
        if set(pt) ^ set(at) - {'co', 'company', 'ltd', 'limited', 'corp', 'corporation'}:
            cands.append((uid, p, a))
for uid in ('20820', '23063', '24784', '23520'):  # Bros., Imp./Exp., Mohd, Trdg: keep these rarer ones
    for u, p, a in cands:
        if u == uid:
            add('abbreviation', K(u), a, p, M, sdn(u))
            break
for uid, p, a in pick(cands, 8, 2):
    add('abbreviation', K(uid), a, p, M, sdn(uid))
# acronyms that are real SDN aliases
for uid, acr in [('25396', 'IRISL'), ('10391', 'IRGC'), ('4709', 'PFLP'), ('8759', 'ISIL'), ('15638', 'FDLR'),
                 ('17671', 'CJNG'), ('29795', 'NIOEC'), ('10153', 'DIO')]:
    add('abbreviation', K(uid), A(uid, acr), P(uid), M, sdn(uid))
for q, uid in [
    ('Petrochemical Commercial Co Intl', '11622'),
    ('Bloto Intl Company', '8420'),
    ('Ramcharan Bros Ltd', '8864'),
    ('Kaveh Cutting Tools Co', '11442'),
    ('Tariq Abu Shanab Establishment for Trade and Commerce', '8407'),
    ('Korea Mining Dev Trading Corp', '9345'),
    ('Mahab Ghodss Consulting Engg Co', '12081'),
    ('Shiraz Electronics Inds', '11183'),
    ('Naftiran Intertrade Co Ltd', '11318'),
]:
    add('abbreviation', K(uid), q, P(uid), M, C)
# non-matches: an abbreviation or acronym that stands for a different listed party, or expands to another word
for a, b in [('4709', '4710')]:  # PFLP vs PFLP - General Command
    add('abbreviation', K(b), A(a, 'PFLP'), P(b), N, sdn(a, b))
add('abbreviation', K('12055'), A('10391', 'IRGC'), P('12055'), N, sdn('10391', '12055'))  # IRGC vs IRGC Air Force
add('abbreviation', K('42600'), A('10391', 'IRGC'), P('42600'), N, sdn('10391', '42600'))
add('abbreviation', K('10391'), A('12055', 'IRGCAF'), P('10391'), N, sdn('12055', '10391'))
add('abbreviation', K('25432'), A('25396', 'IRISL'), P('25432'), N, sdn('25396', '25432'))
add('abbreviation', K('11317'), 'NITC', P('11317'), N, C)  # National Iranian Tanker Co vs National Iranian Oil Co
add('abbreviation', K('15117'), 'NIOC', P('15117'), N, C)
add('abbreviation', K('29795'), 'NIOC', P('29795'), N, C)
add('abbreviation', K('8759'), 'ISIS-K', P('8759'), N, C)
add('abbreviation', K('4710'), 'PLF', P('4709'), N, C)
for q, uid in [
    ('Petrochemical Commercial Company Interiors', '11622'),
    ('Ramcharan Brokers Ltd', '8864'),
    ('Kaveh Cutting Tech Co', '11442'),
    ('Korea Mining Devices Trading Corp', '9345'),
    ('Mahab Ghodss Consulting English Co', '12081'),
    ('Shiraz Electronics Indonesia', '11183'),
    ('Bloto Interior Company', '8420'),
    ('Tariq Abu Shanab Estate for Trade and Commerce', '8407'),
    ('Segovia Importers Corp', '19161'),
    ('Al-Omgy Brokers Money Exchange', '20820'),
    ('Chadormalu Mining & Industrial Cooperative', '28287'),
    ('Korea Marine & Industrial Transport', '23520'),
    ('Mohd Karim Yusof Faizal', '24784'),
]:
    add('abbreviation', K(uid), q, P(uid), N, C)

# ---------------------------------------------------------------- extra_word
LF_EXTRA = {'bvba', 'sal', 'sa', 'ltda', 'srl', 'sarl', 'eood', 'ood', 'bv', 'nv', 'kg', 'sas', 'spa', 'pvt', 'dmcc',
            'fzc', 'fz', 'offshore', 'holding', 'sociedad', 'anonima', 'limitada', 'cv', 'de', 'eireli', 'sl', 'doo'}
cands = []
for uid, p, a in same_entity_pairs():
    pt, at = norm(p).split(), norm(a).split()
    sp, sa = set(pt), set(at)
    d = (sp - sa) | (sa - sp)
    if len(d) == 1 and (sp < sa or sa < sp) and abs(len(pt) - len(at)) == 1 and not d & (LFW | LF_EXTRA | {'and', 'the', 'dr', 'of', 'al', 'jr', 'el', 'bin', 'daw'}) \
            and not re.fullmatch(r'\d+|[ivx]+', next(iter(d))):
        if len(pt) >= 2 and len(at) >= 2:
            cands.append((uid, p, a))
for uid, p, a in pick(cands, 30, 3):
    add('extra_word', K(uid), a, p, M, sdn(uid))
for a, b in [('535', '536'), ('537', '551'), ('7843', '7844'), ('7843', '7845'), ('8129', '8132'), ('8863', '8864'),
             ('10410', '10412'), ('10451', '10450'), ('20960', '12741'), ('21023', '15000'), ('15954', '15144'),
             ('16020', '16021'), ('16031', '16032'), ('16825', '16826'), ('18715', '18709'), ('19156', '19157'),
             ('13071', '20379'), ('23887', '23888'), ('12481', '25018'), ('25425', '25421'), ('25913', '25915'),
             ('30412', '25623'), ('18341', '18335'), ('23786', '23785'), ('23788', '23787'), ('43285', '43284'),
             ('47371', '47370'), ('48183', '48182'), ('45330', '43556')]:
    add('extra_word', K(b), P(a), P(b), N, sdn(a, b))
for q, uid in [('Kapitan Beklemishev Shipping Ltd', '31938'), ('Kapitan Kokovin Shipping Co', '37038')]:
    add('extra_word', 'organisation', P(uid), q, N, C)
add('extra_word', 'organisation', 'Cimex Motors Ltd', 'Cimex Motor Spares Ltd', N, C)

# ---------------------------------------------------------------- numeral
add('numeral', 'vessel', A('15038', 'ARGO 1'), P('15038'), M, sdn('15038'))
for q, uid in [('ARK 3', '15037'), ('DIAMOND 2', '15042'), ('SPARTA 2', '36696'), ('SPARTA 3', '37028'),
               ('BICENTENARIO 8', '26657'), ('BICENTENARIO 14', '26625'), ('MARIE DE LOURDES 1', '23426'),
               ('MARIE DE LOURDES 5', '23427'), ('IRAN HORMUZ No. 12', '25283'), ('IRAN HORMUZ NO.25', '25281'),
               ('SAKHALIN VIII', '44276'), ('SAKHALIN No 10', '44279'), ('TIAN XIANG No. 18', '33804'),
               ('SOUTH HILL II', '19582'), ('SOUTH HILL V', '19584'), ('RA NAM II', '19594'), ('RA NAM III', '19595'),
               ('TONG HUNG I', '19598'), ('TONG HUNG V', '23743'), ('MI RIM II', '19593'), ('KUM UN SAN III', '23163'),
               ('ASIA BRIDGE I', '23778'), ('MARIA 3', '15905'), ('GOLDEN LIGHT 9', '40894'),
               ('FU YUAN YU YUN No. 997', '33764'), ('HYUNDAI MIPO No. 2656', '25320'), ('KUM SONG III', '23160'),
               ('YU SONG VII', '23158'), ('BICENTENARIO 16', '26630')]:
    add('numeral', 'vessel', q, P(uid), M, C)
for a, b in [('26657', '26662'), ('26657', '26661'), ('26655', '26660'), ('26639', '26659'), ('36696', '37028'),
             ('33801', '33804'), ('33764', '33839'), ('25320', '25322'), ('23426', '23427'), ('23425', '23426'),
             ('19582', '19584'), ('19594', '19595'), ('19598', '23743'), ('19592', '19593'), ('23517', '23163'),
             ('27408', '23778'), ('15905', '46773'), ('25283', '25284'), ('25281', '25335'), ('44276', '44278'),
             ('44278', '44279')]:
    add('numeral', 'vessel', P(a), P(b), N, sdn(a, b))
for q, uid in [('SOUTH HILL 3', '19584'), ('ARK II', '15037'), ('DIAMOND I', '15042'), ('IRAN HORMUZ 21', '25335'),
               ('ARGO II', '15038'), ('SPARTA IV', '37028'), ('TIAN XIANG 81', '33801'), ('BICENTENARIO 11', '26659')]:
    add('numeral', 'vessel', q, P(uid), N, C)
add('numeral', 'vessel', 'KOHANA MARU No. 1', 'KOHANA MARU No. 11', N, C)
add('numeral', 'vessel', 'KOHANA MARU No. 11', 'KOHANA MARU 11', M, C)

# ---------------------------------------------------------------- plural
# A plural that only changes a descriptive word (industries, forces, services, holdings) keeps the identity: OFAC
# itself lists such variants as aliases. A plural of the distinctive, brand-like word makes another name.
for uid, q in [('10391', 'ISLAMIC REVOLUTIONARY GUARDS CORPS'), ('11183', 'SHIRAZ ELECTRONIC INDUSTRIES'),
               ('11245', 'FARMACIAS JERLYNE, S.A. DE C.V.'), ('12055', 'ISLAMIC REVOLUTIONARY GUARDS CORPS AIR FORCE'),
               ('12727', 'BASIJ RESISTANCE FORCES'), ('18219', 'AL-INMAA GROUP FOR TOURISM WORK, LLC'),
               ('18221', 'AL-INMAA FOR ENTERTAINMENTS AND LEISURE PROJECTS'), ('22906', 'MAK INTERNATIONAL SERVICE CO LTD'),
               ('27183', 'PENTA OCEAN SHIP MANAGEMENT AND OPERATIONS LLC'), ('28178', 'PAINS VICTOIRE'),
               ('29853', 'ATLAS SHIPS MANAGEMENT'), ('30143', 'ARYA SASOL POLYMERS'),
               ('33536', 'MYANMAR WAR VETERAN ORGANIZATION'), ('33597', 'ERITREAN DEFENSE FORCE'),
               ('37487', 'AGROGATE HOLDINGS'), ('48810', 'CHONGQING ZONGSHEN AERO ENGINES MANUFACTURING CO LTD'),
               ('16996', 'EXPERTS PARTNERS')]:
    add('plural', K(uid), A(uid, q), P(uid), M, sdn(uid))
for q, uid in [('Pentane Chemistry Industry', '13439'), ('Kaveh Cutting Tool Company', '11442'),
               ('Trading & Maritime Investment', '8411'), ('Sara Property Limited', '9600'),
               ('Palestinian Martyr Foundation', '10412'), ('Mines and Metal Engineering GmbH', '11612'),
               ('Myanma Five Star Lines Company Limited', '47277'), ('Marine Bridge and Navigation System Ltd', '40324'),
               ('Star Ships Management Limited', '25842'), ('Palm Services Limited', '25841'),
               ('Crown Bus Service Limited', '47454')]:
    add('plural', K(uid), q, P(uid), M, C)
for q, uid in [('Golden Fishes S.A.L. (Offshore)', '23669'), ('Smiles Technologies S.A.', '26465'),
               ('Golden Phoenixes', '40890'), ('Dolphins Trading Company Limited', '23670'),
               ('Jasmines Contracting Company', '29864'), ('Kohanas Company Limited', '48139'),
               ('Sierra Vistas Trading Limited', '39281'), ('Patriots Insurance Brokers Co. Ltd', '23333'),
               ('Freedom Stars General Trading Co. L.L.C.', '47579'), ('Vista Claras Shipping Corporation', '39704'),
               ('Kay Zones Builders & Developers', '19973'), ('Golden Stars Trading LLC', '29865'),
               ('East Stars Company', '21545'), ('White Stars DMCC', '42322'), ('Green Islands S.A.', '8738'),
               ('Shine Dragons Group Limited', '29117'), ('Kings Trade B.V.', '39587'), ('Black Diamonds SARL', '44523'),
               ('Royal Pearls General T.R.D.', '21554'), ('New Horizons Organization', '26383'),
               ('Dragons Trading Limited', '40974'), ('Emeralds FZE', '37919'), ('Falcons Systems', '8364'),
               ('Star Sapphires Group Pte. Ltd.', '41189'), ('Future Gates Fuel and Petrochemical Trading L.L.C.', '34113')]:
    add('plural', K(uid), q, P(uid), N, C)
add('plural', 'organisation', 'Association Fraternités Islamiques', 'ASSOCIATION FRATERNITE ISLAMIQUE', N, C)

# ---------------------------------------------------------------- one_letter
cands = []
for uid, p, a in same_entity_pairs():
    pn, an = norm(p), norm(a)
    if len(pn) >= 8 and abs(len(pn) - len(an)) <= 1 and pn.replace(' ', '') != an.replace(' ', '') and lev(pn, an) == 1:
        cands.append((uid, p, a))
for uid, p, a in pick(cands, 24, 4):
    add('one_letter', K(uid), a, p, M, sdn(uid))
# genuine customer-side typos (keyboard slips, a dropped or swapped letter) of listed names
for q, uid in [('Yevgeniy Prigozhyn', '21171'), ('Ramzan Kadyorv', '23343'), ('Gennady Timchenki', '16666'),
               ('Arkady Rotenbreg', '16669'), ('Oleg Deripaksa', '24283'), ('Hasan Nasralah', '2686')]:
    add('one_letter', K(uid), q, P(uid), M, C)
# non-matches: two different listed parties one or two letters apart
for a, b in [('7775', '7804'), ('12211', '40205'), ('12556', '26579'), ('13431', '13433'), ('15068', '30823'),
             ('15079', '25268'), ('15129', '15130'), ('15139', '15140'), ('41135', '41141'), ('25298', '25347'),
             ('27281', '39691'), ('16084', '20604'), ('16318', '45391'), ('17616', '39497'), ('18331', '18332'),
             ('18954', '18955'), ('21745', '23092'), ('24810', '31772'), ('25261', '25395'), ('25265', '44248'),
             ('25306', '25307'), ('25317', '25350'), ('25385', '25386'), ('26886', '26889'), ('26944', '39498'),
             ('29260', '30108'), ('29603', '30145'), ('37933', '47053'), ('41007', '47924'), ('44022', '47968'),
             ('45404', '45410')]:
    assert lev(norm(P(a)), norm(P(b))) <= 2, (P(a), P(b))
    add('one_letter', K(b), P(a), P(b), N, sdn(a, b))
add('one_letter', 'vessel', 'YU HSIN', 'YU HSING', N, C)
add('one_letter', 'person', 'KARIMI, Ahmad', 'KARIUKI, Ahmad', N, C)
add('one_letter', 'organisation', 'SOLE SHIPPING LTD', 'SOUL SHIPPING LTD', N, C)

# ---------------------------------------------------------------- spacing
cands = []
for uid, p, a in same_entity_pairs():
    sq = lambda s: re.sub(r"[\s\-.]", "", s.lower())
    if p != a and sq(p) == sq(a) and "'" not in p + a and norm(p) != norm(a):
        cands.append((uid, p, a))
for uid, p, a in pick(cands, 22, 5):
    add('spacing', K(uid), a, p, M, sdn(uid))
for q, l, kind in [('EtsDiallo', 'ETS DIALLO', 'organisation'), ('Wirra-long Trading Pty Ltd', 'WIRRALONG TRADING PTY LTD', 'organisation'),
                   ('GIE Sahel Transport', 'G.I.E. SAHEL TRANSPORT', 'organisation')]:
    add('spacing', kind, q, l, M, C)
for q, uid in [('AlQaida', '6366'), ('Hizb Allah', '4697'), ('Rosoboron Eksport OAO', '18782'), ('Mahan-Air', '12927'),
               ('Bank Melli-Iran', '25578'), ('Tose E Melli Investment Company', '25425'), ('Jamaat ul Ahrar', '20360')]:
    add('spacing', K(uid), q, P(uid), M, C)
# non-matches: different listed parties whose names meet (or nearly meet) once spaces and hyphens are dropped
for a, qa, b, lb in [('47674', 'LIMITED LIABILITY COMPANY ITC', '47676', 'LIMITED LIABILITY COMPANY I T C'),
                     ('47674', 'AITISI', '47676', 'AI TI SI'),
                     ('47537', 'LIMITED LIABILITY COMPANY IT1', '47676', 'LIMITED LIABILITY COMPANY I T C'),
                     ('10465', 'IRGC-QF', '12055', 'IRGCAF'),
                     ('16604', 'KUDO-KAI', '17787', 'KODOKAI'),
                     ('16604', 'KUDOKAI', '17787', 'KODO-KAI'),
                     ('16833', 'STROYTRANSGAZ-M LLC', '16834', 'STROYTRANSGAZ LLC'),
                     ('26201', 'RIM GROUP INVESTMENTS, CORP.', '26202', 'RIM GROUP INVESTMENTS I CORP.')]:
    add('spacing', K(b), A(a, qa), A(b, lb), N, sdn(a, b))
# syllables regrouped: the letters run together the same, the names differ (Song Il / Son Gil, Jian / Ji An)
for q, l in [('Choe Son Gil', P('18557')), ('Zhang Ji An', P('21042')), ('Pak Chu Nil', P('19533')),
             ('Wang Xi An', 'WANG, Xian'), ('Liu Xin An', 'LIU, Xi Nan'), ('Chen Yu An', 'CHEN, Yuan'),
             ('Kang Chan Gil', 'KANG, Chang Il'), ('Li Nan', 'LIN, An'), ('Jang Son Gok', 'JANG, Song Ok'),
             ('Yang Ji An', 'YANG, Jian'), ('Ri Yon Gil', 'RI, Yong Il'), ('Hwang Ha Nul', 'HWANG, Han Ul')]:
    add('spacing', 'person', q, l, N, C)

# ---------------------------------------------------------------- transliteration
TRANS_KEY_SUBS = [('kh', 'h'), ('gh', 'g'), ('q', 'k'), ('ck', 'k'), ('c', 'k'), ('ph', 'f'), ('dh', 'd'), ('th', 't'),
                  ('zh', 'j'), ('dzh', 'j'), ('ou', 'u'), ('oo', 'u'), ('ee', 'i'), ('ie', 'i'), ('y', 'i'), ('w', 'v'),
                  ('x', 'ks'), ('z', 's')]


def tkey(s):
    s = norm(s)
    for a, b in TRANS_KEY_SUBS:
        s = s.replace(a, b)
    s = re.sub(r'(.)\1+', r'\1', s)
    return ' '.join(t[0] + re.sub(r'[aeiouh]', '', t[1:]) for t in s.split())


cands = []
for uid, p, a in same_entity_pairs():
    pn, an = norm(p), norm(a)
    if pn != an and len(pn.split()) == len(an.split()) and pn.replace(' ', '') != an.replace(' ', '') \
            and lev(pn, an) >= 2 and tkey(p) == tkey(a):
        cands.append((uid, p, a))
for uid, p, a in pick(cands, 20, 6):
    add('transliteration', K(uid), a, p, M, sdn(uid))
# the systems named in issue 24: kh/h, zh/j, ts/c, -sky/-skiy, Mohammed/Muhammad, Abdul Rahman/Abdurrahman
for q, uid in [('Ramzan Ahmatovich Kadyrov', '23343'), ('Evgenii Viktorovich Prigojine', '21171'),
               ('Igor Ivanovitch Setchin', '16692'), ('Gennadiy Nikolaevich Timtchenko', '16666'),
               ('Sergey Kuzhugetovich Shoygu', '35173'), ('Alexander Grigoryevich Lukashenko', '9760'),
               ('Qassem Suleimani', '10481'), ('KOLOMEICEV, Nikolay Vasilievich', '35228'),
               ('SIMANOVSKY, Alexey Yurevich', '36393'), ('MUHAMMAD, Fazul Abdullah', '6927'),
               ('YASIN, Abdurrahman', '6931'), ('HAMENEI, Ali Hosseini', '26945')]:
    add('transliteration', K(uid), q, P(uid), M, C)
# non-matches: different people whose family names are transliteration variants of each other (or the same),
# written with the spellings OFAC lists for them
for a, qa, b, lb in [('44499', 'RADA, Amer Mohamed Akil', '44522', 'REDA, Samer Mohamed Akil'),
                     ('20577', 'CHO, Chun-ryong', '21747', 'CHOE, Chun Yong'),
                     ('12608', 'QADHAFI, Saif al-Islam', '12631', 'QADDAFI, Saif Al-Arab'),
                     ('10481', 'SOLEYMANI, Qasem', '28919', 'SOLEIMANI, Ayoub'),
                     ('10481', 'SOLEYMANI, Ghasem', '27854', 'SOLEIMANI, Gholamreza'),
                     ('12725', 'AL-ASAD, Mahir', '41676', 'AL-ASSAD, Waseem'),
                     ('12534', 'AYASH, Hassan', '48184', 'AYYASH, Mustafa'),
                     ('40541', 'MOUKALLED, Rayyan Hassan', '48325', 'MOUKALLED, Firas Hasan'),
                     ('35588', 'GADZHIYEV, Ruslan Gadzhiyevich', '38256', 'GADZHIEV, Nariman Gadzhievich'),
                     ('32716', 'VASILIEV, Anatoly Ivanovich', '35417', 'VASILYEV, Nikolay Ivanovich'),
                     ('12463', 'KHARROUBI, Ali Mohamed', '12533', 'KHAROUBI, Jamal Mohamad'),
                     ('35976', 'KHOTIMSKIY, Dmitry Vladimirovich', '35979', 'KHOTIMSKI, Sergei Vladimirovich'),
                     ('10044', 'FAYADH, Sobhi Mahmoud', '10045', 'FAYAD, Saleh Mahmoud'),
                     ('36801', 'KARLIN, Alexander Bogdanovich', '36813', 'KARELIN, Alexander Alexandrovich'),
                     ('40242', 'VOROBYOV, Andrei Yurievich', '40243', 'VOROBYEV, Maxim Yuryevich'),
                     ('35430', 'MATVEYEV, Mikhail Nikolayevich', '41336', 'MATVEEV, Mikhail Pavlovich'),
                     ('38216', 'GURIEV, Andrey Grigoryevich', '38217', 'GURYEV, Andrey Andreevich'),
                     ('24322', 'ZHAROV, Alexander Alexandrovich', '32738', 'ZHIROV, Artur Aleksandrovich'),
                     ('23303', 'CHAYKA, Artem Yuryevich', '36516', 'CHAIKA, Igor Yuryevich'),
                     ('17615', 'JANG, Yong Son', '23091', 'JONG, Yong Su'),
                     ('29069', 'HAMSHO, Amr Mohamed', '29070', 'HAMSHOU, Ali Mohammed'),
                     ('47133', "HIRZALLAH, Na'im Kamil Raghib", '47134', 'HERZALLAH, Salah Kamel Raghib'),
                     ('10483', 'HEJAZI, Mohammad', '28445', 'HIJAZI, Kassem Mohamad'),
                     ('12606', 'QADDAFI, Muammar', '12627', 'QADHAFI, Hannibal Muammar'),
                     ('39262', 'SOBIANINA, Olga Sergeyevna', '39263', 'SOBYANINA, Anna Sergeyevna'),
                     ('8883', 'AL-AHMED, Muhammad Yunis', '10376', "AL-AHMAD, Sa'ad Muhammad Yunis"),
                     ('7880', 'AL-TAKRITI, Barzan Ibrahim Hassan', '7879', 'AL-TIKRITI, Watban Ibrahim Hassan'),
                     ('9797', 'LUKASHENKO, Viktor Aliaksandravich', '32615', 'LUKASHENKA, Dzmitry Aliaksandravich'),
                     ('28571', 'AL-HAMIDAWI, Ahmad Muhsin Faraj', '47177', 'AL-HAMADAWI, Aogad Mohsin Faraj'),
                     ('31456', 'BILOUSOV, Mikhailo Mikolaiovich', '36772', 'BELOUSOV, Mikhail Vladimirovich'),
                     ('23307', 'KARIMOVA, Goulnora Islamovna', '38279', 'KERIMOVA, Gulnara Suleymanovna')]:
    add('transliteration', 'person', A(a, qa), A(b, lb), N, sdn(a, b))
add('transliteration', 'person', 'Hussein Nasrallah', P('2686'), N, C)

# ---------------------------------------------------------------- word_order
cands = []
for uid, p, a in same_entity_pairs():
    pn, an = norm(p).split(), norm(a).split()
    if SDN[uid]['type'] == 'person' and pn != an and sorted(pn) == sorted(an) and len(pn) >= 2:
        cands.append((uid, p, a))
for uid, p, a in pick(cands, 14, 7):
    add('word_order', K(uid), a, p, M, sdn(uid))


def natural(name):
    fam, given = [x.strip() for x in name.split(',', 1)]
    return f'{given} {fam.title()}' if fam.isupper() else f'{given} {fam}'


for uid in ['35096', '16669', '20157', '21444', '23213', '29262', '29263', '10481', '27844', '16641', '23343',
            '2686', '23627', '47320', '27225', '24283']:
    add('word_order', K(uid), natural(P(uid)), P(uid), M, C)
# non-matches: different listed people whose names hold the same tokens in another order, or where one's family
# name is the other's given name (query written given-name first, as a customer would)
for a, na, b, lb in [('6706', P('6706'), '8234', P('8234')),
                     ('12534', P('12534'), '12535', 'AYACHE, Mahmoud Hassan'),
                     ('23013', 'RI, Un Song', '24997', P('24997')),
                     ('9593', P('9593'), '10119', 'MOHAMED, Khalil Ibrahim'),
                     ('27225', P('27225'), '32370', P('32370')), ('27226', P('27226'), '41188', P('41188')),
                     ('31171', P('31171'), '31946', P('31946')), ('41187', P('41187'), '47352', P('47352')),
                     ('11269', P('11269'), '31923', P('31923')), ('22070', P('22070'), '22113', P('22113')),
                     ('21392', P('21392'), '30551', P('30551')), ('23383', P('23383'), '26699', P('26699')),
                     ('39636', P('39636'), '43088', P('43088')), ('27230', P('27230'), '45917', P('45917')),
                     ('6915', P('6915'), '24786', P('24786'))]:
    add('word_order', 'person', natural(A(a, na)), A(b, lb), N, sdn(a, b))
add('word_order', 'person', A('23647', 'WEI, Zhang'), P('45391'), N, sdn('23647', '45391'))
for a, b in [('16671', '16669'), ('7844', '7845'), ('9797', '32615'), ('35313', '24183'), ('34558', '16692'),
             ('38244', '38241'), ('16721', '16641'), ('12627', '12628')]:
    add('word_order', 'person', natural(P(a)), P(b), N, C)

# ---------------------------------------------------------------- vessel_prefix
PREFIXES = ['MV', 'M/V', 'M.V.', 'MT', 'M/T', 'MSV', 'MV.', 'M/V.', 'SS', 'MY']
vessels = sorted([u for u in SDN if SDN[u]['type'] == 'vessel' and not re.search(r'\d', P(u)) and len(P(u)) > 4], key=int)
rnd = random.Random(8)
for i, uid in enumerate(rnd.sample(vessels, 30)):
    add('vessel_prefix', 'vessel', f'{PREFIXES[i % len(PREFIXES)]} {P(uid).title() if i % 3 == 0 else P(uid)}', P(uid), M, C)
for i, (a, b) in enumerate([('15068', '30823'), ('15079', '25268'), ('41135', '41141'), ('25298', '25347'),
                            ('25297', '25347'), ('27281', '39691'), ('25363', '40905'), ('25345', '25346'),
                            ('25344', '39692'), ('25299', '25343'), ('26646', '28301'), ('26644', '37102'),
                            ('24512', '25384'), ('15902', '18336'), ('15045', '15906'), ('15081', '25267'),
                            ('25292', '25368'), ('41133', '41092'), ('41089', '41090'), ('41087', '41085')]):
    add('vessel_prefix', 'vessel', f'{PREFIXES[i % len(PREFIXES)]} {P(a)}', P(b), N, C)
for i, (a, b) in enumerate([('18341', '18335'), ('23786', '23785'), ('47371', '47370'), ('48183', '48182'),
                            ('43285', '43284'), ('23425', '23409'), ('48141', '48139'), ('23788', '23787'),
                            ('45330', '43556'), ('48037', '47917')]):
    add('vessel_prefix', 'organisation', f'{PREFIXES[i % len(PREFIXES)]} {P(a)}', P(b), N, C)

# ---------------------------------------------------------------- alias
STOP = {'of', 'the', 'and', 'for', 'de', 'la', 'del', 'al', 'el', 'in', 'y', 'du', 'des', 'le'}


def toks(s):
    return {t for t in norm(s).split() if t not in STOP and t not in LFW and len(t) > 1}


cands = []
for uid, p, a in same_entity_pairs():
    tp, ta = toks(p), toks(a)
    if not tp or not ta or SDN[uid]['type'] == 'vessel':
        continue
    j = len(tp & ta) / len(tp | ta)
    if 0.2 <= j <= 0.6 and abs(len(tp) - len(ta)) <= 2 and tkey(p) != tkey(a) \
            and difflib.SequenceMatcher(None, norm(p), norm(a)).ratio() <= 0.7:
        cands.append((uid, p, a))
for uid, p, a in pick(cands, 24, 9):
    add('alias', K(uid), a, p, M, sdn(uid))
for uid, a in [('306', 'NATIONAL BANK OF CUBA'), ('4697', 'PARTY OF GOD'), ('4695', 'ISLAMIC RESISTANCE MOVEMENT'),
               ('6366', 'THE BASE'), ('8759', 'ISLAMIC STATE OF IRAQ AND AL-SHAM'), ('10391', 'PASDARAN')]:
    if a in ALT[uid]:
        add('alias', K(uid), a, P(uid), M, sdn(uid))
for a, alias, b in [('4708', 'PALESTINE LIBERATION FRONT', '4709'), ('4694', 'ISLAMIC GROUP', '4690'),
                    ('6365', 'BIN LADEN, Usama', '11378'), ('12628', 'QADHAFI, Mohammed Muammar', '12606'),
                    ('20118', 'MINISTRY OF PUBLIC SECURITY', '25437'), ('8759', 'ISLAMIC STATE OF IRAQ AND AL-SHAM', '19890'),
                    ('17013', 'OAO BANK VTB', '18723'), ('46777', 'AKTSIONERNOE OBSHCHESTVO BARNAULSKII PATRONNYI ZAVOD', '44917'),
                    ('35856', 'JSC 711 AIRCRAFT REPAIR PLANT', '35873'), ('47493', 'FORT DIALOG SERVIS OOO', '47490'),
                    ('19991', 'KHANANI, Javed', '19970'), ('39216', 'MYINT, Aung', '32361'), ('11169', 'AL-DARI, Harith', '11493'),
                    ('17672', 'LOS CUINIS DRUG TRAFFICKING ORGANIZATION', '16622'), ('23719', 'MIRE, Mohamed Ali', '39516'),
                    ('32294', 'KHAING, Thet Thet', '31923'), ('10594', 'BEHZAD, Ahmed Abdullah', '6915'),
                    ('12148', 'HARAKAT UL JIHAD-E-ISLAMI', '10742'), ('26817', 'PERSIAN GULF PETROCHEMICAL INDUSTRIES', '26842'),
                    ('45900', 'ZAWAYA GROUP FOR DEVELOPMENT AND INVESTMENT CO.', '45901'), ('37700', 'MARI MACHINE BUILDING PLANT JSC', '48033'),
                    ('44967', 'JSC TIKHORETSK MACHINE BUILDING PLANT', '47725'), ('18750', 'LLC INSURANCE COMPANY SBERBANK INSURANCE', '18751'),
                    ('9329', 'AL-TIKRITI, Yasser Sabawi Ibrahim Hasan', '9354'), ('22693', 'ISLAMIC REVOLUTIONARY GUARD CORPS SELF-SUFFICIENCY JEHAD ORGANIZATION', '22692'),
                    ('36075', 'ALAN ENERJI URETIM SANAYI VE TICARET LIMITED SIRKETI', '36050'), ('18721', 'VTB BANK BELARUS CLOSED JOINT STOCK COMPANY', '18722'),
                    ('12628', 'QADHAFI, Mohammed Muammar', '12627'), ('7879', 'AL-TIKRITI, Watban Ibrahim al-Hasan', '9332'),
                    ('27320', "KARAKI, Muhammad 'Ali", '22151')]:
    if alias in ALT[a]:
        add('alias', K(b), alias, P(b), N, sdn(a, b))
    else:
        print('alias not found', a, alias, file=sys.stderr)

# ---------------------------------------------------------------- script
UN_MATCH = ['IQi.001', 'IQi.005', 'IQi.006', 'IQi.025', 'QDi.006', 'QDi.042', 'QDi.232', 'QDi.283', 'QDi.322',
            'QDi.421', 'TAi.002', 'QDi.136', 'IQi.036', 'QDi.290', 'QDi.365', 'QDi.397', 'QDe.131', 'QDi.306', 'QDi.312']
for ref in UN_MATCH:
    u = UN[ref]
    add('script', u['kind'], u['orig'], u['latin'], M, f'UN SC {ref}')
for q, uid in [('Путин Владимир Владимирович', '35096'), ('Ротенберг Аркадий Романович', '16669'),
               ('Лукашенко Александр Григорьевич', '9760'), ('Лукашэнка Аляксандр Рыгоравіч', '9760'),
               ('Янукович Віктор Федорович', '16641'), ('Кадыров Рамзан Ахматович', '23343'),
               ('Рособоронэкспорт', '18782'), ('김정은', '20157'), ('김여정', '21444'), ('최룡해', '23213'),
               ('조선광업개발무역회사', '9345'), ('李家超', '29250'), ('夏宝龙', '29262'), ('骆惠宁', '29263'),
               ('張曉明', '29259'), ('ינון לוי', '47320'), ('דוד חי חסדאי', '47326'), ('بانک ملی ایران', '25578'),
               ('قاسم سلیمانی', '10481'), ('ابراهیم رئیسی', '27844'), ('حزب الله', '4697'), ('القاعدة', '6366'),
               ('حماس', '4695'), ('בן-ציון גופשטיין', '48605'), ('שלום זיכרמן', '47324')]:
    add('script', K(uid), q, P(uid), M, C)
for a, b in [('IQi.002', 'IQi.003'), ('IQi.057', 'IQi.058'), ('IQi.036', 'IQi.037'), ('IQi.038', 'IQi.064'),
             ('IQi.081', 'IQi.082'), ('IQi.083', 'IQi.085'), ('IQi.007', 'IQi.015'), ('IQi.001', 'IQi.061'),
             ('QDi.276', 'QDi.277'), ('QDi.353', 'QDi.354'), ('IQi.044', 'IQi.051'), ('QDi.366', 'QDi.368'),
             ('IQi.062', 'IQi.065'), ('QDi.031', 'QDi.412')]:
    add('script', UN[b]['kind'], UN[a]['orig'], UN[b]['latin'], N, f'UN SC {a}; UN SC {b}')
for q, uid in [('Ротенберг Борис Романович', '16669'), ('Путин Владимир Владимирович', '38241'),
               ('Лукашенко Виктор Александрович', '32615'), ('Медведев Дмитрий Анатольевич', '38644'),
               ('Сечин Иван Игоревич', '16692'), ('Банк ВТБ', '18722'), ('김정식', '20157'), ('김여정', '20157'),
               ('李家傑', '29250'), ('陳茂波', '29260'), ('张晓光', '29259'), ('דוד לוי', '47320'),
               ('بانک ملت', '25578'), ('بانک ملی ایران', '25019'), ('قاسم سلیمانی', '28919'), ('حزب التحرير', '4697'),
               ('مجتبی خامنه‌ای', '26945')]:
    add('script', K(uid), q, P(uid), N, C)

# ---------------------------------------------------------------- common_name
COMMON = {'mohammed', 'mohammad', 'muhammad', 'mohamed', 'ali', 'ahmed', 'ahmad', 'hassan', 'hasan', 'hussein',
          'husain', 'abdullah', 'abdallah', 'kim', 'li', 'wang', 'zhang', 'chen', 'khan', 'ibrahim', 'omar', 'umar',
          'yusuf', 'mahmoud', 'mustafa', 'salem', 'saleh', 'said', 'garcia', 'lopez', 'hernandez', 'rodriguez',
          'martinez', 'gonzalez', 'perez', 'sanchez', 'ivanov', 'smirnov', 'pak', 'ri', 'choe', 'jong', 'chol', 'song',
          'il', 'nam', 'yong', 'aung', 'myint', 'win', 'tun', 'jose', 'juan', 'maria', 'luis', 'carlos', 'alexander',
          'sergei', 'andrei', 'vladimir', 'dmitry', 'khalid', 'jamal', 'ismail', 'hussain', 'mahmud'}
full_common = sorted([u for u in SDN if SDN[u]['type'] == 'person' and ',' in P(u)
                      and 2 <= len(norm(P(u)).split()) <= 4 and all(t in COMMON for t in norm(P(u)).split())
                      and norm(natural(P(u))) != norm(P(u)) and len(set(norm(P(u)).split())) == len(norm(P(u)).split())], key=int)
# matches: the customer gives the listed person's whole name, made only of common names, given name first
for uid in random.Random(10).sample(full_common, 24):
    add('common_name', 'person', natural(P(uid)).title(), P(uid), M, C)
# non-matches: a customer whose name is two common names that also occur in a longer listed name
long_common = sorted([u for u in SDN if SDN[u]['type'] == 'person' and ',' in P(u) and len(norm(P(u)).split()) >= 4
                      and len({t for t in P(u).replace(',', ' ').split() if norm(t) in COMMON}) >= 2
                      and sum(norm(t) not in COMMON for t in P(u).replace(',', ' ').split()) >= 2], key=int)
n = 0
for uid in random.Random(11).sample(long_common, len(long_common)):
    fam, given = [x.strip() for x in P(uid).split(',', 1)]
    given_t = [t for t in given.split() if norm(t) in COMMON]
    fam_t = [t for t in fam.split() if norm(t) in COMMON]
    toks_c = list(dict.fromkeys(given_t[:1] + fam_t[:1] + given_t[1:]))[:2]
    if len(toks_c) == 2 and add('common_name', 'person', ' '.join(t.title() for t in toks_c), P(uid), N, C):
        n += 1
    if n == 30:
        break

# ---------------------------------------------------------------- unrelated
rnd = random.Random(12)
pool = sorted([u for u in SDN if SDN[u]['type'] in ('person', 'organisation', 'vessel')], key=int)
n = 0
while n < 30:
    a, b = rnd.sample(pool, 2)
    if SDN[a]['type'] != SDN[b]['type'] or toks(P(a)) & toks(P(b)):
        continue
    if add('unrelated', K(b), P(a), P(b), N, sdn(a, b)):
        n += 1

with open(OUT, 'w', newline='', encoding='utf-8') as fh:
    w = csv.writer(fh, lineterminator='\n')
    w.writerow(['id', 'kind', 'category', 'query', 'list_name', 'label', 'source'])
    for i, (cat, kind, q, l, lab, src) in enumerate(rows, 1):
        w.writerow([f'p{i:04d}', kind, cat, q, l, lab, src])
c = collections.Counter((r[0], r[4]) for r in rows)
for cat in sorted({r[0] for r in rows}):
    print(f'{cat:16} {c[(cat, M)]:4} {c[(cat, N)]:4}')
print('total', len(rows), collections.Counter(r[4] for r in rows))
