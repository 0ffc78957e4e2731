import Foundation

/// Small charts drawn on the server as inline SVG: no script, no library, nothing the CSP has to
/// allow. Colours come from the stylesheet's classes (the tenant's brand colours), text is escaped.
public enum SVGChart {
    public struct Bar: Sendable {
        public let label: String
        public let value: Int64
        /// Where the bar's figure leads (its list), if anywhere.
        public let link: String?

        public init(label: String, value: Int64, link: String? = nil) {
            (self.label, self.value, self.link) = (label, value, link)
        }
    }

    /// Horizontal bars, one per row, scaled to the largest value; `title` names the chart for
    /// screen readers. Values are whole numbers (counts, or money already in minor units).
    public static func bars(_ bars: [Bar], title: String, shown: (Int64) -> String = { String($0) }) -> String {
        let rowHeight = 28
        // About a dashboard card's width, so the text is drawn near its CSS size rather than shrunk.
        let labelWidth = 120
        let barSpace = 130
        let width = labelWidth + barSpace + 110
        let height = max(1, bars.count) * rowHeight + 8
        let top = max(1, bars.map(\.value).max() ?? 1)
        var svg = "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" aria-labelledby=\"\(id(title))\">"
        svg += "<title id=\"\(id(title))\">\(escape(title))</title>"
        for (index, bar) in bars.enumerated() {
            let y = 4 + index * rowHeight
            let length = bar.value <= 0 ? 0 : max(2, Int((bar.value * Int64(barSpace)) / top))
            var row = "<text class=\"chart-label\" x=\"0\" y=\"\(y + 18)\">\(escape(bar.label))</text>"
            row += "<rect class=\"chart-bar chart-bar-\(index % 6)\" x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(length)\" height=\"\(rowHeight - 10)\" rx=\"3\"></rect>"
            row += "<text class=\"chart-value\" x=\"\(labelWidth + length + 6)\" y=\"\(y + 18)\">\(escape(shown(bar.value)))</text>"
            if let link = bar.link { row = "<a href=\"\(escape(link))\">\(row)</a>" }
            svg += row
        }
        return svg + "</svg>"
    }

    static func id(_ title: String) -> String {
        "chart-" + String(title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }.prefix(40))
    }

    /// Text and attribute values escaped for HTML and SVG.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
