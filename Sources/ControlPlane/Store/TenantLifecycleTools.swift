import Foundation
import Logging
import NzilaCore
import NzilaDatabase
import PostgresNIO

/// `nzila tenants purge` and `nzila tenants import`: the two ends of an offboarding.
public struct TenantLifecycleTools: Sendable {
    let client: PostgresClient
    let provisioner: Provisioner
    let projectRoot: URL
    /// The platform clock: retention is counted in business time, as `offboarded_at` was written.
    let clock: Clock
    let logger: Logger

    public init(client: PostgresClient, provisioner: Provisioner, projectRoot: URL, clock: Clock, logger: Logger) {
        self.clock = clock
        self.client = client
        self.provisioner = provisioner
        self.projectRoot = projectRoot
        self.logger = logger
    }

    public enum Refusal: Error, CustomStringConvertible, Equatable {
        case notFound(String)
        case notOffboarded(String)
        case alreadyPurged(String)
        case retention(String, remainingDays: Int)
        case noExport(String)
        case export(String)

        public var description: String {
            switch self {
            case .notFound(let slug): return "no tenant \(slug)"
            case .notOffboarded(let slug): return "\(slug) is not offboarded; offboard it first (POST /v1/tenants/\(slug)/offboard)"
            case .alreadyPurged(let slug): return "\(slug) is already purged"
            case .retention(let slug, let days): return "\(slug) is within its retention period for \(days) more day(s)"
            case .noExport(let slug): return "\(slug) has no recorded export"
            case .export(let reason): return "the export does not verify: \(reason)"
            }
        }
    }

    func bind(_ values: any PostgresEncodable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value) }
        return bindings
    }
}
