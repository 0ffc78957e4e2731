import Foundation
import NzilaValues

/// Reads `ReferenceData/instruments.csv`: `#` lines are comments (the file cites its sources
/// there), the first other line is the header, then one instrument per line. Fields may be quoted
/// ("…", with "" for a quote). Every bad line is reported with its number and what is wrong; a
/// file with any is refused whole.
///
/// Columns: `symbol, exchange, name, kind (equity|index), currency, quote_unit, unit_minor,
/// board_lots, ticks, band_bps, time_zone, open, close, start_price, volatility_bps, spread_ticks,
/// depth_lots`, where `board_lots` and `ticks` are band tables `from:value|from:value…` (the first
/// from 0; a single value means every price), `band_bps` is empty where the exchange has no daily
/// limit, `open`/`close` are `HH:MM` in `time_zone` (IANA).
public enum InstrumentsFile {
    public static let columns = [
        "symbol", "exchange", "name", "kind", "currency", "quote_unit", "unit_minor", "board_lots", "ticks", "band_bps", "time_zone", "open", "close",
        "start_price", "volatility_bps", "spread_ticks", "depth_lots",
    ]

    /// What is wrong with one line (or the header).
    public struct LineError: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// A file refused: every line that is wrong.
    public struct Refused: Error, Equatable {
        public let problems: [LineError]
    }

    public static func parse(_ text: String) -> Result<[Instrument], Refused> {
        var problems: [LineError] = []
        var instruments: [Instrument] = []
        var header: [String]?
        var seen: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            let number = index + 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let fields = fields(line) else {
                problems.append(LineError(line: number, message: "an unterminated quoted field"))
                continue
            }
            guard let columns = header else {
                if fields != Self.columns { problems.append(LineError(line: number, message: "the header must be \(Self.columns.joined(separator: ","))")) }
                header = fields
                continue
            }
            guard fields.count == columns.count else {
                problems.append(LineError(line: number, message: "\(fields.count) fields; expected \(columns.count)"))
                continue
            }
            switch instrument(Dictionary(uniqueKeysWithValues: zip(columns, fields))) {
            case .success(let instrument):
                if !seen.insert(instrument.symbol).inserted {
                    problems.append(LineError(line: number, message: "\(instrument.symbol) is listed twice (symbols are unique across exchanges)"))
                } else {
                    instruments.append(instrument)
                }
            case .failure(let message):
                problems.append(LineError(line: number, message: message.message))
            }
        }
        if header == nil { problems.append(LineError(line: 1, message: "no header line")) }
        return problems.isEmpty ? .success(instruments) : .failure(Refused(problems: problems))
    }

    static func instrument(_ f: [String: String]) -> Result<Instrument, LineError> {
        func fail(_ text: String) -> Result<Instrument, LineError> { .failure(LineError(line: 0, message: text)) }
        let symbol = f["symbol"] ?? ""
        guard symbol.range(of: #"^[A-Z0-9][A-Z0-9.\-]{0,15}$"#, options: .regularExpression) != nil else { return fail("symbol \(symbol.prefix(20)) must be 1–16 of A–Z, 0–9, . and -") }
        let exchange = f["exchange"] ?? ""
        guard exchange.range(of: #"^[A-Z]{2,8}$"#, options: .regularExpression) != nil else { return fail("\(symbol): exchange must be an upper-case code") }
        let name = (f["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard (1...120).contains(name.count) else { return fail("\(symbol): name must be 1–120 characters") }
        guard let kind = InstrumentKind(rawValue: f["kind"] ?? "") else { return fail("\(symbol): kind must be equity or index") }
        guard let currency = Currency(code: f["currency"] ?? "") else { return fail("\(symbol): currency \(f["currency"] ?? "") is not supported") }
        let quoteUnit = f["quote_unit"] ?? ""
        guard !quoteUnit.isEmpty, quoteUnit.count <= 8 else { return fail("\(symbol): quote_unit is required") }
        guard let unitMinor = Int64(f["unit_minor"] ?? ""), unitMinor >= 1, unitMinor <= 10_000 else { return fail("\(symbol): unit_minor must be 1–10000") }
        guard let lots = table(f["board_lots"] ?? "", { Int64($0).flatMap { $0 >= 1 && $0 <= 1_000_000 ? $0 : nil } }) else {
            return fail("\(symbol): board_lots must be a whole number of shares, or a band table from:lots|… starting at 0")
        }
        guard let ticks = table(f["ticks"] ?? "", { Price($0).flatMap { $0.e4 > 0 ? $0 : nil } }) else {
            return fail("\(symbol): ticks must be a price, or a band table from:tick|… starting at 0")
        }
        for (previous, band) in zip(ticks.bands, ticks.bands.dropFirst()) where band.from.e4 % band.value.e4 != 0 || band.from.e4 % previous.value.e4 != 0 {
            return fail("\(symbol): the band from \(band.from) must be on both its own and the previous band's tick grid")
        }
        var bandBps: Int?
        if let text = f["band_bps"], !text.isEmpty {
            guard let bps = Int(text), (1...5_000).contains(bps) else { return fail("\(symbol): band_bps must be 1–5000 or empty") }
            bandBps = bps
        }
        guard let open = minutes(f["open"] ?? ""), let close = minutes(f["close"] ?? "") else { return fail("\(symbol): open and close must be HH:MM") }
        guard let session = ExchangeSession(timeZone: f["time_zone"] ?? "", open: open, close: close) else {
            return fail("\(symbol): time_zone must be an IANA zone and open before close")
        }
        guard let start = Price(f["start_price"] ?? ""), start.e4 > 0 else { return fail("\(symbol): start_price must be a positive decimal") }
        guard let volatility = Int(f["volatility_bps"] ?? ""), (1...20_000).contains(volatility),
            let spread = Int(f["spread_ticks"] ?? ""), (1...100).contains(spread),
            let depth = Int(f["depth_lots"] ?? ""), (1...10_000).contains(depth)
        else { return fail("\(symbol): volatility_bps 1–20000, spread_ticks 1–100 and depth_lots 1–10000 are required") }
        let instrument = Instrument(
            symbol: symbol, exchange: exchange, name: name, kind: kind, currency: currency, quoteUnit: quoteUnit, unitMinor: unitMinor, lots: lots, ticks: ticks,
            bandBps: bandBps, session: session,
            simulation: SimulationParameters(startPrice: start, volatilityBps: volatility, spreadTicks: spread, depthLots: depth))
        guard instrument.isOnGrid(start) else { return fail("\(symbol): start_price \(start) is not on its tick grid") }
        return .success(instrument)
    }

    /// "1" or "0:1000|0.10:500|1.00:100".
    static func table<Value: Sendable & Equatable>(_ text: String, _ value: (String) -> Value?) -> BandTable<Value>? {
        if !text.contains(":") { return value(text).map { BandTable(constant: $0) } }
        var bands: [(from: Price, value: Value)] = []
        for part in text.split(separator: "|", omittingEmptySubsequences: false) {
            let pair = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pair.count == 2, let from = Price(String(pair[0])), let v = value(String(pair[1])) else { return nil }
            bands.append((from, v))
        }
        return BandTable(bands)
    }

    /// "09:30" → 570.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m) else {
            return nil
        }
        let total = h * 60 + m
        return total <= 1_440 ? total : nil
    }

    /// One CSV line's fields; nil when a quoted field is not closed.
    static func fields(_ line: String) -> [String]? {
        var fields: [String] = []
        var current = ""
        var quoted = false
        let chars = Array(line)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < chars.count, chars[i + 1] == "\"" {
                        current.append("\"")
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        if quoted { return nil }
        fields.append(current)
        return fields
    }
}

extension InstrumentsFile.Refused: DomainError {
    public var ruleError: RuleError { RuleError.invalid(problems.map { FieldError(field: "instruments.csv:\($0.line)", message: $0.message) }) }
}

extension InstrumentsFile.LineError: DomainError {
    public var ruleError: RuleError { RuleError.invalid(field: "instruments.csv:\(line)", message) }
}
