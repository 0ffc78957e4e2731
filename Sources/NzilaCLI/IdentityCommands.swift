import ArgumentParser
import Compliance
import DataPlane
import NzilaPartners
import Foundation
import NzilaCore
import NzilaDatabase
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// `nzila keys`: the ES256 keys that sign access tokens.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List or rotate the token-signing keys; rotate a tenant's data key.", subcommands: [List.self, Rotate.self, RotateDataKey.self, RotateMaster.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every signing key: kid, state, created and retired times.")
        @OptionGroup var state: StateOptions

        func run() async throws {
            try await Runtime.withOwner(state: state.state) { runtime, owner in
                for key in try await FleetStatus.signingKeys(owner, logger: runtime.logger) {
                    print("\(key.kid)  \(key.active ? "active " : "retired")  created \(key.createdAt.rfc3339)\(key.retiredAt.map { "  retired \($0.rfc3339)" } ?? "")")
                }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new active key and retire the old one.",
            discussion: """
                New tokens are signed with the new key within a few seconds on both planes, without a restart. The JWKS keeps \
                the retired key until every token it signed has expired, so no valid token is refused.
                """)
        @OptionGroup var state: StateOptions

        func run() async throws {
            let kid = try await Runtime.withOwner(state: state.state) { runtime, owner in
                try await KeyRing.rotate(client: owner, secrets: try await runtime.platformSecrets(owner, mayCreate: true), logger: runtime.logger)
            }
            print("active key: \(kid)")
        }
    }
}

extension Keys {
    struct RotateDataKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-data-key",
            abstract: "Give a tenant a new data key and re-seal its sealed fields under it, in batches, while it serves.",
            discussion: """
                Identity document numbers, remittance recipients and card client secrets, and linked banks' tokens are \
                re-sealed, a batch per transaction; KYC files are rewritten in the document store under the new key and \
                their old objects deleted. Run it again after an interruption: it resumes the same rotation. An older key \
                is deleted once nothing refers to it and it was superseded over ten minutes ago.
                """)
        @OptionGroup var state: StateOptions
        @Argument(help: "The tenant's slug.") var slug: String
        @Option(help: "Rows re-sealed per transaction.") var batch = 500
        @Option(help: "Seconds to wait before the last pass, for running planes to stop sealing under the old key (their cache lasts 60 s).")
        var settleSeconds = 65

        func run() async throws {
            let slug = try TenantSlug(slug)
            guard batch > 0, settleSeconds >= 0 else { throw ValidationError("--batch must be positive and --settle-seconds not negative") }
            let report = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                let found = try await owner.statement(
                    "SELECT id FROM control.tenants WHERE slug = \(slug.value) AND purged_at IS NULL", logger: runtime.logger
                ) { rows in try await rows.first(UUID.self) }
                guard let id = found else { throw Refused(description: "no tenant \(slug.value)") }
                let clock = try await Tenants.stackClock(runtime, owner)
                var rotation = DataKeyRotation(columns: DataPlane.sealedColumns, provider: runtime.keys, logger: runtime.logger)
                // KYC files' objects, in the document store the planes use (NZILA_DOCUMENTS).
                rotation.objects = [KYCFileResealing(stores: [
                    try DocumentStores.configured(environment: ProcessInfo.processInfo.environment, stateDirectory: state.state)])]
                rotation.batchSize = batch
                rotation.settle = .seconds(settleSeconds)
                return try await rotation.run(client: owner, tenant: id, schema: slug.schemaName, now: { clock.now() }) { count in
                    print("re-sealed \(count) rows")
                }
            }
            print("\(report.resumed ? "resumed and finished" : "finished") the rotation to data key \(report.keyID) of \(slug.value)")
            for (column, count) in report.resealed.sorted(by: { $0.key < $1.key }) { print("  \(column): \(count) re-sealed") }
            if !report.deleted.isEmpty { print("  deleted older keys: \(report.deleted.map(String.init).joined(separator: ", "))") }
            if !report.kept.isEmpty { print("  kept older keys (still referred to, or superseded under ten minutes ago): \(report.kept.map(String.init).joined(separator: ", "))") }
        }
    }
}

extension Keys {
    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Re-wrap the platform key and every tenant's data keys under the newest master key.",
            discussion: """
                Local master: set the new key as NZILA_MASTER_KEY (or NZILA_MASTER_KEY_FILE) and the old one as \
                NZILA_MASTER_KEY_PREVIOUS (or NZILA_MASTER_KEY_PREVIOUS_FILE), on the planes too, then run this; once it \
                has finished, remove the previous key everywhere. Vault transit: --rotate-in-vault first asks the key \
                service for a new key version. A rerun is safe. Nothing sealed under a data key changes.
                """)
        @OptionGroup var state: StateOptions
        @Flag(help: "With NZILA_KEY_PROVIDER=vault: rotate the transit key before re-wrapping.") var rotateInVault = false

        func run() async throws {
            let report = try await Runtime.withMigratedOwner(state: state.state) { runtime, owner in
                if rotateInVault {
                    guard let vault = runtime.keys as? VaultTransitKeyProvider else { throw ValidationError("--rotate-in-vault needs NZILA_KEY_PROVIDER=vault") }
                    try await vault.rotate()
                }
                // The platform key is made first if this deployment has none yet, then re-wrapped like the rest.
                _ = try await runtime.platformSecrets(owner, mayCreate: true)
                let clock = try await Tenants.stackClock(runtime, owner)
                return try await MasterRotation.run(client: owner, provider: runtime.keys, now: clock.now(), logger: runtime.logger)
            }
            print("re-wrapped \(report.platformKeys) platform key(s) and \(report.dataKeys) data key(s) of \(report.tenants) tenant(s)")
        }
    }
}

/// An operator command's refusal, printed as is (no usage text).
struct Refused: Error, CustomStringConvertible {
    let description: String
}

/// `nzila admins create`: the first platform admin of a production deployment.
struct Admins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create platform admins.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a platform admin. The password is read from standard input (prompted without echo on a terminal), never from an argument.")
        @OptionGroup var state: StateOptions
        @Option(help: "The admin's email.") var email: String

        func run() async throws {
            let password = Self.readPassword()
            var errors: [FieldError] = []
            let address = Validate.email(email).get(into: &errors)
            if let error = Validate.password(password) { errors.append(error) }
            guard errors.isEmpty, let address else {
                throw ValidationError(errors.map { "\($0.field) \($0.message)" }.joined(separator: "; "))
            }
            let hash = try PasswordHasher().hash(password)
            let id = UUID()
            let created = try await Runtime.withOwner(state: state.state) { runtime, owner in
                try await owner.withTransaction(logger: runtime.logger) { connection -> Bool in
                    let inserted = try await connection.query(
                        """
                        INSERT INTO control.users (id, email, password_hash, role) VALUES (\(id), \(address), \(hash), 'platform_admin')
                        ON CONFLICT (email) DO NOTHING RETURNING 1
                        """, logger: runtime.logger
                    ).first(Int.self) != nil
                    if inserted {
                        try await connection.query(
                            """
                            INSERT INTO control.audit_log (actor, actor_role, action, target, detail)
                            VALUES (NULL, 'operator', 'admin.create', \("user:\(id.lowercased)"), jsonb_build_object('after', jsonb_build_object('email', \(address)::text)))
                            """, logger: runtime.logger)
                    }
                    return inserted
                }
            }
            guard created else { throw Refused(description: "a user with email \(address) already exists") }
            print("platform admin \(address) created (id \(id.lowercased))")
        }

        static func readPassword() -> String {
            if isatty(0) != 0, let typed = getpass("Password: ") { return String(cString: typed) }
            return readLine(strippingNewline: true) ?? ""
        }
    }
}
