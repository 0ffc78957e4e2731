import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

/// The dashboard: today's remittances by state, members' money in and out, the open case queue, tontine cycles due this
/// week and loans behind by bucket, as server-drawn SVG charts
/// whose bars lead to their lists. Each figure is read through the API route its list uses, so a role
/// sees only the figures it may open.
extension StaffSite {
    /// How many of today's remittances the dashboard reads at most (four pages of the API's largest).
    static let dashboardScanLimit = 800

    /// A journal kind in the staff member's language (the kind itself when it has no name yet).
    func journalKind(_ page: Page, _ kind: String) -> String {
        let key = "journal.kind.\(kind)"
        let text = page.text(key)
        return text == key ? kind.replacingOccurrences(of: "_", with: " ") : text
    }

    /// Reads a list route page by page (200 at a time), handing each item to `take` until it answers false, and at
    /// most `dashboardScanLimit` items; whether the list was read to its end (or to where `take` stopped).
    func scan(_ page: Page, _ path: String, _ take: ([String: Any]) -> Bool) async throws -> Bool {
        var cursor: String?
        var read = 0
        repeat {
            let answer = try await page.get(path + "?limit=200" + (cursor.map { "&cursor=\(Self.queryEscape($0))" } ?? ""))
            for item in answer.items {
                guard take(item) else { return true }
                read += 1
            }
            cursor = answer.nextCursor
            if read >= Self.dashboardScanLimit, cursor != nil { return false }
        } while cursor != nil
        return true
    }

    func dashboard(_ page: Page) async throws -> Response {
        var values: [String: Any] = [:]
        let now = host.now()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let dayStart = calendar.startOfDay(for: now)
        values["today"] = WebFormat.time(dayStart).prefix(10).description
        if page.tenant.enabledDomains.contains("remittance"), page.allows(.get, "/v1/remittances") {
            // Newest first: read until the first order from before today (bounded).
            var counts: [String: Int64] = [:]
            var sent: [String: Int64] = [:]
            var scanned = 0
            let complete = try await scan(page, "/v1/remittances") { order in
                guard let created = WebFormat.parseTime(order.string("created_at")), created >= dayStart else { return false }
                counts[order.string("state"), default: 0] += 1
                let send = order.object("send")
                sent[send.string("currency"), default: 0] += send.int64("amount")
                scanned += 1
                return true
            }
            let bars = counts.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }.map { state, count in
                SVGChart.Bar(label: page.text("state.\(state)"), value: count, link: "/portal/remittances?state=\(state)")
            }
            values["remittances"] = [
                "shown": true, "total": scanned, "complete": complete, "hasAny": !bars.isEmpty,
                "chart": SVGChart.bars(bars, title: page.text("dashboard.remittances_by_state")),
                "sent": sent.sorted { $0.key < $1.key }.map { ["amount": page.money($0.value, $0.key)] },
            ]
        }
        if page.tenant.enabledDomains.contains("compliance"), page.allows(.get, "/v1/compliance/cases") {
            var bars: [SVGChart.Bar] = []
            var oldest = ""
            for status in ["open", "escalated"] {
                let answer = try await page.get("/v1/compliance/cases?limit=200&status=\(status)")
                if status == "open", let first = answer.items.first { oldest = WebFormat.time(first.string("opened_at")) }
                bars.append(SVGChart.Bar(label: page.text("case.status.\(status)") + (answer.nextCursor == nil ? "" : " (200+)"), value: Int64(answer.items.count), link: "/portal/compliance/cases?status=\(status)"))
            }
            values["cases"] = [
                "shown": true, "chart": SVGChart.bars(bars, title: page.text("dashboard.open_cases")), "oldest": oldest, "hasOldest": !oldest.isEmpty,
            ]
        }
        if page.tenant.enabledDomains.contains("lending"), page.allows(.get, "/v1/loans") {
            // Loans behind, by how late their oldest unpaid instalment is (each bucket its own list).
            var bars: [SVGChart.Bar] = []
            for bucket in Self.loanBuckets {
                let answer = try await page.get("/v1/loans?limit=200&state=disbursed&bucket=\(Self.queryEscape(bucket))")
                let label = page.text("dashboard.days_late", ["bucket": bucket]) + (answer.nextCursor == nil ? "" : " (200+)")
                bars.append(SVGChart.Bar(label: label, value: Int64(answer.items.count), link: "/portal/loans?bucket=\(Self.queryEscape(bucket))"))
            }
            values["loans"] = [
                "shown": true, "chart": SVGChart.bars(bars, title: page.text("dashboard.delinquent_loans")),
                "total": bars.reduce(Int64(0)) { $0 + $1.value },
            ]
        }
        if page.allows(.get, "/v1/ledger/flows") {
            // Members' money in and out today, per currency: one chart each, the kinds beneath.
            let flows = try await page.get("/v1/ledger/flows").object ?? [:]
            let currencies: [[String: Any]] = flows.objects("currencies").map { flow in
                let code = flow.string("currency")
                let inMinor = flow.object("money_in").int64("amount")
                let outMinor = flow.object("money_out").int64("amount")
                let bars = [
                    SVGChart.Bar(label: page.text("dashboard.money_in"), value: inMinor),
                    SVGChart.Bar(label: page.text("dashboard.money_out"), value: outMinor),
                ]
                let kinds: [[String: Any]] = flow.objects("kinds").map { kind in
                    [
                        "kind": journalKind(page, kind.string("kind")), "in": kind.money("money_in", locale: page.locale),
                        "out": kind.money("money_out", locale: page.locale), "journals": kind.string("journals"),
                    ]
                }
                return [
                    "currency": code, "kinds": kinds, "net": page.money(flow.object("net").int64("amount"), code),
                    "chart": SVGChart.bars(bars, title: page.text("dashboard.money_title", ["currency": code])) { page.money($0, code) },
                ]
            }
            values["money"] = ["shown": true, "currencies": currencies, "hasAny": !currencies.isEmpty]
        }
        if page.tenant.enabledDomains.contains("tontine"), page.allows(.get, "/v1/tontine-cycles") {
            // Cycles falling due in the coming week (and today), per day; each day leads to its list.
            var perDay: [String: Int64] = [:]
            var read = 0
            let complete = try await scan(page, "/v1/tontine-cycles") { cycle in
                perDay[cycle.string("due_date"), default: 0] += 1
                read += 1
                return true
            }
            let bars = perDay.sorted { $0.key < $1.key }.map { day, count in
                SVGChart.Bar(label: day, value: count, link: "/portal/tontine-cycles?from=\(day)&to=\(day)")
            }
            values["cycles"] = [
                "shown": true, "hasAny": !bars.isEmpty, "total": read, "complete": complete,
                "chart": SVGChart.bars(bars, title: page.text("dashboard.cycles_due")),
            ]
        }
        return page.render("dashboard", title: page.text("dashboard.title"), values)
    }
}
