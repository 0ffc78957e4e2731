import Foundation
import HTTPTypes
import Hummingbird
import NzilaCore

/// The dashboard: today's remittances by state, the open case queue and loans behind by bucket, as server-drawn SVG charts
/// whose bars lead to their lists. Each figure is read through the API route its list uses, so a role
/// sees only the figures it may open.
extension StaffSite {
    /// How many of today's remittances the dashboard reads at most (four pages of the API's largest).
    static let dashboardScanLimit = 800

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
            var cursor: String?
            var scanned = 0
            var complete = true
            scan: repeat {
                let answer = try await page.get("/v1/remittances?limit=200" + (cursor.map { "&cursor=\(Self.queryEscape($0))" } ?? ""))
                for order in answer.items {
                    guard let created = WebFormat.parseTime(order.string("created_at")), created >= dayStart else { break scan }
                    counts[order.string("state"), default: 0] += 1
                    let send = order.object("send")
                    sent[send.string("currency"), default: 0] += send.int64("amount")
                    scanned += 1
                }
                cursor = answer.nextCursor
                if scanned >= Self.dashboardScanLimit, cursor != nil {
                    complete = false
                    break
                }
            } while cursor != nil
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
        return page.render("dashboard", title: page.text("dashboard.title"), values)
    }
}
