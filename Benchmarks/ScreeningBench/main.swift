// Screening benchmark (issue 7): screens names against a generated 50,000-entry list and prints p50/p99
// latency and names per second. Run through ops/bench/screening.sh (release build). Nothing is asserted.
//   ScreeningBench [--entries 50000] [--queries 5000] [--seed 7]   (SHOW_SLOWEST=1 prints the 30 slowest names;
//   SHOW_REVIEWS=1 also prints the top candidate of
//   each non-clear decision among the last 400 queries, to judge precision by eye)
import Compliance
import Foundation

var entriesWanted = 50_000, queriesWanted = 5_000
var seed: UInt64 = 7
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let flag = arguments.next() {
    switch flag {
    case "--entries": entriesWanted = Int(arguments.next() ?? "") ?? entriesWanted
    case "--queries": queriesWanted = Int(arguments.next() ?? "") ?? queriesWanted
    case "--seed": seed = UInt64(arguments.next() ?? "") ?? seed
    default: fatalError("unknown argument \(flag)")
    }
}

/// A small deterministic generator (SplitMix64), so every run screens the same list and names.
struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
var random = Generator(state: seed)

// Name pools by region, the shapes sanctions lists hold: Arabic and Persian names (with particles and
// transliteration variants), West and East African, Slavic (patronymics), Latin American, East and South Asian.
let pools: [(first: [String], middle: [String], last: [String], nationality: [String])] = [
    (["Muhammad", "Mohammed", "Ahmad", "Ahmed", "Ali", "Hassan", "Hussein", "Omar", "Umar", "Yusuf", "Youssef", "Ibrahim", "Abdullah", "Abdel Rahman",
      "Khalid", "Mustafa", "Said", "Salih", "Usama", "Osama", "Ayman", "Jamal", "Tariq", "Walid", "Nasser", "Faisal", "Hamza", "Bilal", "Anas", "Zayd"],
     ["bin Ali", "ibn Abdullah", "Abu Bakr", "al-Hassan", "Muhammad", "Abd al-Aziz", "Hamid", "Rashid", "Saleh", "Jaber"],
     ["al-Zawahiri", "al-Masri", "al-Baghdadi", "al-Tikriti", "al-Awlaki", "al-Qahtani", "al-Harbi", "al-Shami", "Haqqani", "al-Rimi", "Nasrallah",
      "al-Otaibi", "al-Shehri", "al-Zahrani", "al-Ghamdi", "al-Dosari", "Mansour", "Haddad", "Khoury", "Barakat", "Saadeh", "Darwish", "Hamdan"],
     ["SY", "IQ", "YE", "SA", "EG", "LY", "SD", "JO", "LB", "AF"]),
    (["Reza", "Ali", "Hossein", "Mahmoud", "Mohammad", "Qasem", "Javad", "Mehdi", "Hassan", "Abbas", "Majid", "Saeed"],
     ["Reza", "Ali", "Mohammad", "Hossein"],
     ["Soleimani", "Khamenei", "Zarif", "Rouhani", "Larijani", "Velayati", "Rezaei", "Ahmadinejad", "Mohseni", "Jafari", "Naqdi", "Shamkhani"],
     ["IR"]),
    (["Abubakar", "Ibrahim", "Musa", "Aliyu", "Chinedu", "Emeka", "Ngozi", "Oluwaseun", "Kwame", "Kofi", "Ama", "Amadou", "Mamadou", "Fatoumata",
      "Aissatou", "Ousmane", "Boubacar", "Moussa", "Seydou", "Adama"],
     ["Adebayo", "Chukwuemeka", "Olumide", "Abdoulaye", "Mohamed", "Amina", "Bello"],
     ["Shekau", "Barnawi", "Okonkwo", "Adeyemi", "Diallo", "Traore", "Keita", "Coulibaly", "Toure", "Sow", "Ba", "Diop", "Ndiaye", "Mensah", "Owusu",
      "Boateng", "Abubakar", "Yusuf", "Danjuma", "Obi"],
     ["NG", "ML", "NE", "BF", "GH", "SN", "GN", "CM"]),
    (["Ahmed", "Abdi", "Hassan", "Mohamed", "Ali", "Farah", "Joseph", "Kiprop", "Wanjiru", "Jean-Pierre", "Faustin", "Bosco", "Laurent"],
     ["Abdi", "Ali", "Nkunda", "Ntaganda"],
     ["Godane", "Warsame", "Aweys", "Robow", "Kony", "Ntaganda", "Mudacumura", "Bemba", "Kabila", "Nkurunziza", "Museveni", "Kagame"],
     ["SO", "KE", "UG", "CD", "RW", "BI", "SS"]),
    (["Viktor", "Sergei", "Sergey", "Alexander", "Aleksandr", "Dmitry", "Dmitri", "Yevgeny", "Evgeny", "Igor", "Vladimir", "Mikhail", "Oleg",
      "Andrei", "Yuri", "Nikolai", "Roman", "Arkady", "Gennady", "Boris"],
     ["Viktorovich", "Sergeyevich", "Aleksandrovich", "Vladimirovich", "Fyodorovich", "Borisovich", "Yurievich", "Ivanovich", "Petrovich"],
     ["Yanukovych", "Prigozhin", "Deripaska", "Abramovich", "Rotenberg", "Timchenko", "Sechin", "Medvedev", "Shoigu", "Lavrov", "Kovalchuk",
      "Usmanov", "Vekselberg", "Fridman", "Aven", "Patrushev", "Bortnikov", "Naryshkin", "Chemezov", "Miller"],
     ["RU", "BY", "UA"]),
    (["Jose", "Juan", "Carlos", "Luis", "Miguel", "Nicolas", "Diosdado", "Tareck", "Rafael", "Ivan", "Joaquin", "Ismael", "Rodrigo", "Ovidio"],
     ["Antonio", "Manuel", "Alberto", "Ernesto", "Guzman"],
     ["Maduro", "Cabello", "El Aissami", "Guzman Loera", "Zambada", "Caro Quintero", "Ortega", "Murillo", "Padrino Lopez", "Rodriguez", "Castro"],
     ["VE", "MX", "NI", "CU", "CO"]),
    (["Kim", "Ri", "Pak", "Choe", "Jang", "Wang", "Li", "Zhang", "Chen", "Min", "Aung", "Than"],
     ["Jong", "Song", "Yong", "Chol", "Hui"],
     ["Un", "Il", "Sol", "Hwa", "Chol", "Ho", "Wei", "Jun", "Hlaing", "Shwe", "Tun"],
     ["KP", "CN", "MM"]),
]
let entitySuffixes = ["Trading LLC", "General Trading", "Shipping Company", "Holding", "Import Export", "Foundation", "Bank", "JSC", "Group",
                      "Petroleum", "Airlines", "Exchange", "Logistics FZE"]
let entityWords = ["Al Noor", "Rosoboron", "Sea Star", "Golden Crescent", "Tigris", "Sahel", "Caspian", "Kavkaz", "Aden", "Baltic", "Orient",
                   "Crescent Moon", "Sinai", "Zagros", "Atlas", "Kilimanjaro", "Volga", "Ural", "Amur", "Andes"]
let sources = ["ofac-sdn", "un", "eu", "ca-sema", "pep"]

@MainActor func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
@MainActor func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
// Surnames are diverse in real lists and among customers while first names repeat: most surnames are
// built from syllables (tens of thousands of distinct ones), some are the pool's well-known ones.
let syllables = ["ka", "ba", "ri", "mo", "ra", "de", "su", "la", "mi", "na", "to", "ze", "ha", "fi", "go", "lu", "sa", "we", "yo", "ki",
                 "dar", "man", "sor", "bel", "kan", "tur", "vin", "shi", "kov", "nik", "dou", "mba", "nde", "wal", "ham", "qar", "zul", "rad",
                 "ov", "enko", "ani", "oglu", "ari", "esh", "ala", "ido", "ume", "ola", "aye", "emi", "ibo", "uri", "ast", "ell"]
@MainActor func surname(_ pool: (first: [String], middle: [String], last: [String], nationality: [String])) -> String {
    if chance(25) { return pick(pool.last) }
    var text = ""
    for _ in 0..<(2 + Int(random.next() % 2)) { text += pick(syllables) }
    return text.prefix(1).uppercased() + text.dropFirst()
}
@MainActor func personName(_ pool: (first: [String], middle: [String], last: [String], nationality: [String])) -> String {
    chance(55) ? "\(pick(pool.first)) \(pick(pool.middle)) \(surname(pool))" : "\(pick(pool.first)) \(surname(pool))"
}
@MainActor func dob() -> String {
    let year = 1940 + Int(random.next() % 60), month = 1 + Int(random.next() % 12), day = 1 + Int(random.next() % 28)
    return chance(20) ? "\(year)" : String(format: "%04d-%02d-%02d", year, month, day)
}
/// One misspelling: a dropped, doubled or swapped letter.
@MainActor func typo(_ name: String) -> String {
    var letters = Array(name)
    guard letters.count > 4 else { return name }
    let at = 1 + Int(random.next() % UInt64(letters.count - 2))
    switch random.next() % 3 {
    case 0: letters.remove(at: at)
    case 1: letters.insert(letters[at], at: at)
    default: letters.swapAt(at, at - 1)
    }
    return String(letters)
}

/// The process's resident memory in MiB (VmRSS of /proc/self/status), 0 where there is none.
func residentMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kib / 1024
}
let residentAtStart = residentMiB()
let startGenerating = ContinuousClock.now
var entries: [ListEntry] = []
entries.reserveCapacity(entriesWanted)
for index in 0..<entriesWanted {
    let source = pick(sources)
    if chance(20) {
        let name = "\(pick(entityWords)) \(pick(entitySuffixes))"
        entries.append(ListEntry(source: source, sourceID: "\(source)-\(index)", kind: .entity, names: [name] + (chance(50) ? [typo(name)] : []),
                                 programmes: [pick(["SDGT", "IRAN", "RUSSIA-EO14024", "DPRK", "VENEZUELA", "SOMALIA"])]))
        continue
    }
    let pool = pick(pools)
    let primary = personName(pool)
    var names = [primary]
    for _ in 0..<Int(random.next() % 4) { names.append(chance(50) ? typo(primary) : personName(pool)) }
    entries.append(ListEntry(source: source, sourceID: "\(source)-\(index)", kind: .individual, names: names,
                             datesOfBirth: chance(80) ? [dob()] : [], nationalities: [pick(pool.nationality)],
                             programmes: [source == "pep" ? "PEP" : pick(["SDGT", "IRAN", "RUSSIA-EO14024", "DPRK", "VENEZUELA", "SOMALIA"])]))
}
let generated = ContinuousClock.now - startGenerating

let residentWithEntries = residentMiB()
let startBuilding = ContinuousClock.now
let index = ScreeningIndex(entries: entries, listVersions: Dictionary(uniqueKeysWithValues: sources.map { ($0, "bench") }))
let built = ContinuousClock.now - startBuilding
let residentWithIndex = residentMiB()

// Queries: 30% listed names with a misspelling, a reordering or nothing changed; 70% customers drawn from
// the same name pools (so they share common first names with listed people, the costly case).
var queries: [ScreeningQuery] = []
for _ in 0..<queriesWanted {
    if chance(30) {
        let entry = pick(entries)
        var name = pick(entry.names)
        switch random.next() % 3 {
        case 0: name = typo(name)
        case 1: name = name.split(separator: " ").reversed().joined(separator: " ")
        default: break
        }
        queries.append(ScreeningQuery(name: name, dateOfBirth: entry.datesOfBirth.first.flatMap { $0.count == 10 ? $0 : nil }))
    } else {
        let pool = pick(pools)
        queries.append(ScreeningQuery(name: personName(pool), dateOfBirth: dob().count == 10 ? dob() : nil, nationality: pick(pool.nationality)))
    }
}
// Warm up, then time each screening on its own.
for query in queries.prefix(200) { _ = index.screen(query) }
var latencies: [Double] = []
latencies.reserveCapacity(queries.count)
var outcomes: [ScreeningOutcome: Int] = [:]
var slowest: [(ms: Double, name: String, candidates: Int)] = []
let startScreening = ContinuousClock.now
for query in queries {
    let start = ContinuousClock.now
    let result = index.screen(query)
    let elapsed = ContinuousClock.now - start
    let ms = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
    latencies.append(ms)
    outcomes[result.decision, default: 0] += 1
    slowest.append((ms, query.name, result.candidates.count))
}
slowest.sort { $0.ms > $1.ms }
let total = ContinuousClock.now - startScreening
latencies.sort()
@MainActor func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int((Double(latencies.count - 1) * p).rounded()))] }
@MainActor func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
print(String(format: "list: %d entries, %d names, %d distinct tokens; generated in %.2f s, indexed in %.2f s",
             entries.count, index.nameCount, index.vocabularySize, seconds(generated), seconds(built)))
print(String(format: "screened %d names: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms; %.0f names/s on one core (aim: p99 < 5 ms)",
             latencies.count, percentile(0.5), percentile(0.9), percentile(0.99), latencies.last ?? 0, Double(latencies.count) / seconds(total)))
print(String(format: "memory (resident): %.0f MiB at start, %.0f MiB with the entries, %.0f MiB with the index (index %.0f MiB, %.0f bytes per name)",
             residentAtStart, residentWithEntries, residentWithIndex, residentWithIndex - residentWithEntries,
             (residentWithIndex - residentWithEntries) * 1_048_576 / Double(max(1, index.nameCount))))
print("decisions: clear \(outcomes[.clear] ?? 0), review \(outcomes[.review] ?? 0), block \(outcomes[.block] ?? 0)")
if let repeated = ProcessInfo.processInfo.environment["REPEAT_QUERY"] {
    // One name screened again and again: the first time pays for its words' close tokens, the others do not.
    for run in 0..<(Int(ProcessInfo.processInfo.environment["REPEAT_COUNT"] ?? "5") ?? 5) {
        let start = ContinuousClock.now
        let result = index.screen(ScreeningQuery(name: repeated))
        print(String(format: "%@ run %d: %.3f ms, %d candidates", repeated as NSString, run, seconds(ContinuousClock.now - start) * 1000, result.candidates.count))
    }
}
if ProcessInfo.processInfo.environment["SHOW_SLOWEST"] != nil {
    for slow in slowest.prefix(30) { print(String(format: "%8.3f ms  %3d candidates  %@", slow.ms, slow.candidates, slow.name as NSString)) }
}
if ProcessInfo.processInfo.environment["SHOW_REVIEWS"] != nil {
    for query in queries.suffix(400) {
        let result = index.screen(query)
        if result.decision != .clear, let top = result.candidates.first {
            print("\(query.name) -> \(top.matchedName) \(top.score) \(result.decision)")
        }
    }
}
