import Foundation
import Testing
@testable import StaffWeb

@Suite("Staff site formats: money, amounts typed in forms, forms, charts")
struct WebFormatTests {
    @Test("money is written exactly, grouped per language, on the currency's exponent")
    func money() {
        #expect(WebFormat.money(123_456, "CAD", locale: "en") == "CAD 1,234.56")
        #expect(WebFormat.money(123_456, "CAD", locale: "fr") == "1\u{202F}234,56 CAD")
        #expect(WebFormat.money(-5, "CAD", locale: "en") == "−CAD 0.05")
        #expect(WebFormat.money(1_500_000, "XOF", locale: "en") == "XOF 1,500,000")
        #expect(WebFormat.money(Int64.min, "CAD", locale: "en") == "−CAD 92,233,720,368,547,758.08")
        #expect(WebFormat.money(100, "CAD", locale: "en") == "CAD 1.00")
    }

    @Test("an amount typed in a form is refused rather than rounded")
    func typedAmounts() {
        let cases: [(String, Int, Int64?)] = [
            ("125.50", 2, 12_550), ("125,5", 2, 12_550), ("1 234.56", 2, 123_456), ("0.01", 2, 1), (".5", 2, 50), ("7", 2, 700),
            ("1500", 0, 1_500), ("12.345", 2, nil), ("1.5", 0, nil), ("-3", 2, nil), ("0", 2, nil), ("0.00", 2, nil), ("abc", 2, nil),
            ("", 2, nil), ("1.", 2, nil), ("1.2.3", 2, nil), ("１２", 2, nil), ("9999999999999.99", 2, 999_999_999_999_999), ("99999999999999.99", 2, nil),
        ]
        for (typed, exponent, expected) in cases {
            #expect(WebFormat.minorUnits(typed, exponent: exponent) == expected, "\(typed) at exponent \(exponent)")
        }
    }

    @Test("white text's contrast on a brand colour follows WCAG's formula; only #RRGGBB is read")
    func contrast() {
        #expect(WebFormat.contrastWithWhite("#000000").map { ($0 * 100).rounded() } == 2_100)
        #expect(WebFormat.contrastWithWhite("#FFFFFF") == 1)
        // #767676 is the usual "just passes 4.5:1" grey; #777777 just fails.
        #expect(WebFormat.contrastWithWhite("#767676")! >= 4.5)
        #expect(WebFormat.contrastWithWhite("#777777")! < 4.5)
        #expect(WebFormat.contrastWithWhite("#F2A541")! < 4.5)
        #expect(WebFormat.contrastWithWhite("#0B6E4F")! >= 4.5)
        for bad in ["0B6E4F", "#0B6E4", "#0B6E4FF", "#GGGGGG", "red", ""] { #expect(WebFormat.contrastWithWhite(bad) == nil, "\(bad)") }
    }

    @Test("form bodies decode + and percent escapes; the last value wins")
    func forms() {
        let fields = FormFields.parse("name=Awa+Diallo&email=a%40b.test&empty=&x=1&x=2&bad=%ZZ")
        #expect(fields["name"] == "Awa Diallo")
        #expect(fields["email"] == "a@b.test")
        #expect(fields["empty"] == "")
        #expect(fields["x"] == "2")
        #expect(fields["bad"] == "%ZZ")
    }

    @Test("charts escape their text and scale to the largest bar")
    func chart() {
        let svg = SVGChart.bars([.init(label: "<script>", value: 10, link: "/portal/x?a=1&b=2"), .init(label: "b", value: 5)], title: "T & T")
        #expect(!svg.contains("<script>"))
        #expect(svg.contains("&lt;script&gt;"))
        #expect(svg.contains("a=1&amp;b=2"))
        #expect(svg.contains("width=\"130\""))
        #expect(svg.contains("width=\"65\""))
        #expect(SVGChart.bars([], title: "empty").hasPrefix("<svg"))
    }

    @Test("brand colours reach the stylesheet only as #RRGGBB")
    func brand() {
        let tenant = PortalTenant(slug: "x", name: "X", primaryColor: "red;}body{display:none", secondaryColor: "#123ABC", logoURL: nil, enabledDomains: [])
        #expect(tenant.stylesheet == ":root{--brand:#0B6E4F;--brand-2:#123ABC;}\n")
    }

    @Test("only a portal path is somewhere to go back to")
    func backPaths() {
        #expect(StaffSite.localPath("/portal/members", base: "/portal") == "/portal/members")
        #expect(StaffSite.localPath("https://evil.example/", base: "/portal") == nil)
        #expect(StaffSite.localPath("//evil.example/portal/", base: "/portal") == nil)
        #expect(StaffSite.localPath("/portal/..\\evil", base: "/portal") == nil)
        #expect(StaffSite.localPath("/console/tenants", base: "/portal") == nil)
        #expect(StaffSite.localPath("/console/tenants", base: "/console") == "/console/tenants")
    }

    @Test("both languages name every string")
    func strings() {
        let renderer = WebRenderer.shared
        #expect(Set(renderer.strings("en").keys) == Set(renderer.strings("fr").keys))
        #expect(renderer.text("nav.members", "fr") == "Membres")
        // Templates read `t.a.b`: no key may be both a string and the prefix of another.
        let keys = Set(renderer.strings("en").keys)
        #expect(keys.filter { key in keys.contains { $0.hasPrefix(key + ".") } }.isEmpty)
        #expect(renderer.text("login.locked", "en", ["minutes": "15"]).contains("15 min."))
    }
}
