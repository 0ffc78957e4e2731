import ControlPlane
import Foundation
import NzilaCore
import Testing

@Suite("Tenant configuration rules")
struct TenantConfigTests {
    /// A valid configuration, as JSON would decode it.
    static func valid() -> [String: Any] {
        let text = """
            {"branding": {"display_name": "Caisse Umoja", "primary_color": "#0B6E4F", "secondary_color": "#f2a541", "locales": ["fr-CA", "en-CA"],
                          "logo_url": "https://umoja.example/logo.svg", "support_email": "aide@umoja.example", "support_phone": null},
             "domains": ["banking", "remittance"],
             "fees": {"fx_spread_bps": 150, "corridors": [
                 {"corridor": "CAD-NGN", "method": "mobile_money", "fixed_minor": 299, "bps": 50, "min_minor": 299, "max_minor": 2500},
                 {"corridor": "CAD-XOF", "method": "cash_pickup", "bands": [
                     {"from_minor": 0, "fixed_minor": 499, "bps": 0, "min_minor": 499, "max_minor": 499},
                     {"from_minor": 50000, "fixed_minor": 0, "bps": 100, "min_minor": 500, "max_minor": 3000}]}]},
             "kyc_limits": {"currency": "CAD", "tiers": {
                 "1": {"monthly_send_minor": 40000, "daily_send_minor": 20000},
                 "2": {"monthly_send_minor": 500000, "daily_send_minor": null},
                 "3": {"monthly_send_minor": 2500000, "daily_send_minor": 1000000},
                 "4": {"monthly_send_minor": null, "daily_send_minor": 5000000}}}}
            """
        return try! JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    static func fields(_ document: Any) -> Set<String> { Set(TenantConfig.problems(document).map(\.field)) }

    @Test func acceptsAValidConfiguration() {
        #expect(TenantConfig.problems(Self.valid()).isEmpty, "\(TenantConfig.problems(Self.valid()))")
    }

    @Test("payouts: partners per corridor and method, named as the registry names connections, in order, none repeated")
    func payoutRoutes() throws {
        var config = Self.valid()
        config["payouts"] = ["routes": [
            ["corridor": "CAD-NGN", "method": "mobile_money", "partners": ["flw-prod", "sandbox-momo"]],
            ["corridor": "CAD-XOF", "method": "cash_pickup", "partners": ["thunes-1"]]]]
        #expect(TenantConfig.problems(config).isEmpty, "\(TenantConfig.problems(config))")
        let section = try PayoutsSection.decode(JSONSerialization.data(withJSONObject: config["payouts"]!))
        #expect(section.partners(corridor: "CAD-NGN", method: "mobile_money") == ["flw-prod", "sandbox-momo"])
        #expect(section.partners(corridor: "CAD-NGN", method: "bank_deposit") == nil)
        config["payouts"] = ["routes": [
            ["corridor": "CAD-NGN", "method": "mobile_money", "partners": ["flw-prod", "flw-prod"]],
            ["corridor": "CAD-NGN", "method": "mobile_money", "partners": ["Flw Prod"]],
            ["corridor": "CAD-QQQ", "method": "pigeon", "partners": []],
            ["corridor": "CAD-GHS", "method": "bank_deposit", "partners": ["a", "b", "c", "d", "e", "f"], "weight": 1]]]
        #expect(Self.fields(config) == [
            "payouts.routes[0].partners[1]", "payouts.routes[1]", "payouts.routes[1].partners[0]", "payouts.routes[2].corridor",
            "payouts.routes[2].method", "payouts.routes[2].partners", "payouts.routes[3].weight", "payouts.routes[3].partners",
        ], "\(TenantConfig.problems(config))")
    }

    @Test("names every bad field by its path")
    func namesEveryBadField() throws {
        var config = Self.valid()
        var branding = config["branding"] as! [String: Any]
        branding["primary_color"] = "green"
        branding["logo_url"] = "http://insecure.example/logo.png"
        branding["favicon"] = "x"
        config["branding"] = branding
        config["domains"] = ["banking", "casino", "banking"]
        var fees = config["fees"] as! [String: Any]
        fees["fx_spread_bps"] = 150.5
        var corridors = fees["corridors"] as! [[String: Any]]
        corridors[0]["max_minor"] = 100
        corridors[0]["method"] = "pigeon"
        corridors.append(corridors[1])
        fees["corridors"] = corridors
        config["fees"] = fees
        var kyc = config["kyc_limits"] as! [String: Any]
        var tiers = kyc["tiers"] as! [String: Any]
        tiers["1"] = ["monthly_send_minor": 50_001, "daily_send_minor": 10]
        tiers["3"] = ["monthly_send_minor": 100, "daily_send_minor": 200]
        tiers["2"] = ["monthly_send_minor": NSNull(), "daily_send_minor": NSNull()]
        kyc["tiers"] = tiers
        config["kyc_limits"] = kyc
        config["extra"] = true
        #expect(Self.fields(config) == [
            "branding.primary_color", "branding.logo_url", "branding.favicon", "domains[1]", "domains", "fees.fx_spread_bps",
            "fees.corridors[0].max_minor", "fees.corridors[0].method", "fees.corridors[2]", "kyc_limits.tiers.1.monthly_send_minor",
            "kyc_limits.tiers.3.daily_send_minor", "kyc_limits.tiers.2.monthly_send_minor", "extra",
        ])
    }

    @Test("a tenant may be stricter than the platform maxima, never looser; booleans are not integers")
    func limits() {
        var config = Self.valid()
        var kyc = config["kyc_limits"] as! [String: Any]
        kyc["tiers"] = [
            "1": ["monthly_send_minor": 0, "daily_send_minor": 0], "2": ["monthly_send_minor": 500_000, "daily_send_minor": 500_000],
            "3": ["monthly_send_minor": true, "daily_send_minor": NSNull()], "4": ["monthly_send_minor": 1, "daily_send_minor": NSNull()],
        ]
        config["kyc_limits"] = kyc
        #expect(Self.fields(config) == ["kyc_limits.tiers.3.monthly_send_minor"])
        config["fees"] = ["fx_spread_bps": 2_001, "corridors": []]
        #expect(Self.fields(config) == ["kyc_limits.tiers.3.monthly_send_minor", "fees.fx_spread_bps"])
    }

    @Test("bands start at 0 and rise; a corridor has bands or one fee, not both")
    func bands() {
        var config = Self.valid()
        var fees = config["fees"] as! [String: Any]
        var corridors = fees["corridors"] as! [[String: Any]]
        var bands = corridors[1]["bands"] as! [[String: Any]]
        bands[0]["from_minor"] = 10
        bands[1]["from_minor"] = 5
        corridors[1]["bands"] = bands
        corridors[1]["bps"] = 10
        fees["corridors"] = corridors
        config["fees"] = fees
        #expect(Self.fields(config) == ["fees.corridors[1].bands[0].from_minor", "fees.corridors[1].bands[1].from_minor", "fees.corridors[1]"])
    }

    @Test("the diff names each changed path with before and after")
    func diff() {
        let old = Self.valid()
        var new = Self.valid()
        var fees = new["fees"] as! [String: Any]
        fees["fx_spread_bps"] = 175
        new["fees"] = fees
        new["domains"] = ["banking"]
        let changes = ConfigChange.between(old, new)
        #expect(changes.map(\.path) == ["domains[1]", "fees.fx_spread_bps"])
        #expect(changes[0].kind == .removed && changes[0].before == "\"remittance\"" && changes[0].after == nil)
        #expect(changes[1].kind == .changed && changes[1].before == "150" && changes[1].after == "175")
        #expect(ConfigChange.between(old, Self.valid()).isEmpty)
    }
}

@Suite("Compliance configuration rules")
struct ComplianceConfigTests {
    static func document(_ compliance: Any) throws -> [String: Any] {
        var document = TenantConfigTests.valid()
        document["compliance"] = compliance
        return document
    }

    @Test("stricter than the platform is accepted, looser is refused naming the field, the section may be left out")
    func bounds() throws {
        #expect(TenantConfig.problems(try Self.document(["screening": ["review_bps": 7_000, "block_bps": 9_000], "aml": ["max_transfers_per_hour": 3]])).isEmpty)
        let looser = TenantConfig.problems(try Self.document([
            "screening": ["review_bps": 9_500, "block_bps": 9_990],
            "aml": ["large_transfer_minor": 600_000, "structuring_threshold_minor": 0, "max_transfers_per_hour": 6],
        ])).map(\.field)
        #expect(Set(looser) == ["compliance.screening.review_bps", "compliance.aml.large_transfer_minor", "compliance.aml.structuring_threshold_minor",
                               "compliance.aml.max_transfers_per_hour"], "\(looser)")
        #expect(TenantConfig.problems(try Self.document(["screening": ["review_bps": 8_000, "block_bps": 8_000]])).map(\.field) == ["compliance.screening.block_bps"])
        #expect(TenantConfig.problems(try Self.document(["unknown": 1])).map(\.field) == ["compliance.unknown"])
        var without = try Self.document([:])
        without.removeValue(forKey: "compliance")
        #expect(TenantConfig.problems(without).isEmpty)
    }
}

@Suite("Typed configuration sections")
struct ConfigSectionTests {
    @Test("every section the planes read decodes into its type from a valid document and from both shipped templates")
    func sectionsDecode() throws {
        let root = TenantConfigTests.valid()
        let fees = try #require(try FeesSection.decode(JSONSerialization.data(withJSONObject: root["fees"]!)))
        #expect(fees.fxSpreadBps == 150 && fees.line(corridor: "CAD-XOF", method: "cash_pickup")?.bands?.map(\.fromMinor) == [0, 50_000])
        let kyc = try KYCLimitsSection.decode(JSONSerialization.data(withJSONObject: root["kyc_limits"]!))
        #expect(kyc.tiers["2"]?.monthlySendMinor == 500_000 && kyc.tiers["2"]?.dailySendMinor == nil && kyc.tiers["4"]?.monthlySendMinor == nil)
        let root2 = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for name in ["default", "minimal"] {
            let template = try TenantTemplate.load(named: name, from: root2, tenantName: "Caisse Test")
            let document = try #require(try JSONSerialization.jsonObject(with: template.combinedJSON) as? [String: Any])
            #expect(TenantConfig.problems(document).isEmpty, "\(name): \(TenantConfig.problems(document))")
            for type in ConfigSections.all {
                guard let value = document[type.key] else { continue }
                #expect(throws: Never.self, "\(name).\(type.key)") { _ = try type.decode(JSONSerialization.data(withJSONObject: value)) }
            }
        }
    }

    @Test("a section the data plane could not read is refused when written, naming the section")
    func unreadableIsRefused() {
        var document = TenantConfigTests.valid()
        document["rate_limits"] = ["tenant_per_second": 5]
        #expect(TenantConfig.problems(document).isEmpty)
        #expect(TenantConfig.readable(["rate_limits": ["tenant_burst": "many"]]).map(\.field) == ["rate_limits"])
        #expect(TenantConfig.readable(["fees": ["fx_spread_bps": 150]]).first?.message.contains("corridors is missing") == true)
    }

    @Test("tontine: a late fee per currency plus bps and a boolean guarantee are accepted and read; a bad one is refused naming the field")
    func tontineSection() throws {
        /// The valid document with `tontine` set to `json`, as JSON would decode it.
        func withTontine(_ json: String) throws -> [String: Any] {
            var document = TenantConfigTests.valid()
            document["tontine"] = try JSONSerialization.jsonObject(with: Data(json.utf8))
            return document
        }
        let valid = #"{"late_fee": {"fixed_minor": {"CAD": 500}, "bps": 100}, "guarantee": true}"#
        let accepted = try withTontine(valid)
        #expect(TenantConfig.problems(accepted).isEmpty, "\(TenantConfig.problems(accepted))")
        let tontine = try #require(accepted["tontine"])
        #expect(TenantConfig.readable(["tontine": tontine]).isEmpty)
        let section = try TontineSection.decode(Data(valid.utf8))
        let xof = try #require(Currency(code: "XOF"))
        #expect(section.fixedLateFeeMinor(.cad) == 500 && section.fixedLateFeeMinor(xof) == 0)
        #expect(section.lateFeeBps == 100 && section.guarantees)
        #expect(TenantConfig.problems(try withTontine(#"{"guarantee": false}"#)).isEmpty)
        #expect(TenantConfig.problems(try withTontine("{}")).isEmpty)

        #expect(TenantConfigTests.fields(try withTontine(#"{"late_fee": {"bps": 20000}}"#)) == ["tontine.late_fee.bps"])
        #expect(TenantConfigTests.fields(try withTontine(#"{"late_fee": {"fixed_minor": {"ZZZ": 500}}}"#)) == ["tontine.late_fee.fixed_minor.ZZZ"])
        #expect(TenantConfigTests.fields(try withTontine(#"{"guarantee": "yes"}"#)) == ["tontine.guarantee"])
        #expect(TenantConfigTests.fields(try withTontine(#"{"guarantee": 1}"#)) == ["tontine.guarantee"])
        #expect(TenantConfigTests.fields(try withTontine(#"{"grace": 3}"#)) == ["tontine.grace"])
        #expect(TenantConfig.readable(["tontine": ["guarantee": "yes"]]).map(\.field) == ["tontine"])
    }

    @Test("lending: cut-offs within 300–900 (decline at most approve) and a cap no higher than the law's are accepted; the lower cap applies")
    func lendingSection() throws {
        func withLending(_ json: String) throws -> [String: Any] {
            var document = TenantConfigTests.valid()
            document["lending"] = try JSONSerialization.jsonObject(with: Data(json.utf8))
            return document
        }
        let valid = #"{"approve_at": 650, "decline_below": 580, "rate_cap_bps": 3000}"#
        #expect(TenantConfig.problems(try withLending(valid)).isEmpty)
        let section = try LendingSection.decode(Data(valid.utf8))
        #expect(section.approveCutoff == 650 && section.declineCutoff == 580)
        #expect(section.capBps(platform: 3_500) == 3_000 && section.capBps(platform: 2_500) == 2_500)
        #expect(LendingSection.none.capBps(platform: 9_999) == 3_500, "never above the Criminal Code's 35%")
        #expect(LendingSection.none.approveCutoff == 640 && LendingSection.none.declineCutoff == 560)
        // Without decline_below, the default follows a lower approve_at down.
        let low = try LendingSection.decode(Data(#"{"approve_at": 500}"#.utf8))
        #expect(low.declineCutoff == 500)
        #expect(TenantConfig.problems(try withLending(#"{"approve_at": 500}"#)).isEmpty)
        #expect(TenantConfig.problems(try withLending("{}")).isEmpty)

        #expect(TenantConfigTests.fields(try withLending(#"{"rate_cap_bps": 3600}"#)) == ["lending.rate_cap_bps"])
        #expect(TenantConfigTests.fields(try withLending(#"{"approve_at": 950}"#)) == ["lending.approve_at"])
        #expect(TenantConfigTests.fields(try withLending(#"{"approve_at": 600, "decline_below": 620}"#)) == ["lending.decline_below"])
        #expect(TenantConfigTests.fields(try withLending(#"{"decline_below": 700}"#)) == ["lending.decline_below"])
        #expect(TenantConfigTests.fields(try withLending(#"{"cutoff": 3}"#)) == ["lending.cutoff"])
        #expect(TenantConfig.readable(["lending": ["approve_at": "high"]]).map(\.field) == ["lending"])
    }
}
