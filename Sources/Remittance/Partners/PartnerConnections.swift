import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NzilaCore
import NzilaPartners

extension PartnerConnection {
    /// The partner this connection speaks to, its credential read now from where the reference points.
    public func partner(environment: [String: String], client: HTTPClient = .shared) throws -> any PayoutPartner & PartnerCheck {
        let secret = try credential.resolve(environment: environment)
        let timeout = TimeAmount.milliseconds(Int64(timeoutMs))
        if kind == "quotations" {
            return QuotationPayoutPartner(
                name: name, methods: Set(methods), baseURL: baseURL, credential: secret, payers: payers, timeout: timeout, attempts: attempts, client: client)
        }
        return HTTPPayoutPartner(name: name, methods: Set(methods), baseURL: baseURL, apiKey: secret, timeout: timeout, attempts: attempts, client: client)
    }

    /// The funding provider this connection speaks to (a `money-requests` or `card-payments` kind), its credential read now.
    public func fundingProvider(environment: [String: String], client: HTTPClient = .shared) throws -> any FundingProvider {
        let secret = try credential.resolve(environment: environment)
        let timeout = TimeAmount.milliseconds(Int64(timeoutMs))
        if kind == "card-payments" {
            return StripePaymentIntentsProvider(name: name, baseURL: baseURL, secretKey: secret, timeout: timeout, attempts: attempts, client: client)
        }
        return InteracRequestProvider(name: name, baseURL: baseURL, apiKey: secret, timeout: timeout, attempts: attempts, client: client)
    }

    /// What `nzila partners test` calls for a payout or funding connection.
    public func checkable(environment: [String: String], client: HTTPClient = .shared) throws -> any PartnerCheck {
        funds ? try fundingProvider(environment: environment, client: client) : try partner(environment: environment, client: client)
    }
}

extension PayoutPartners {
    /// The built-in sandbox partners and the registry's connections, each with its credential resolved. A connection
    /// whose credential is missing is left out and said in the log (by name and reference): the data plane still pays
    /// through the others, and `nzila partners test` says what is wrong.
    public static func configured(
        _ connections: [PartnerConnection], environment: [String: String], client: HTTPClient = .shared, logger: Logger
    ) -> PayoutPartners {
        var partners: [any PayoutPartner] = [SandboxPartner.momo, SandboxPartner.cash]
        var funding: [any FundingProvider] = []
        var callbackSecrets: [String: String] = [:]
        // Identity connections are Compliance's (`IdentityProviders`).
        for connection in connections where connection.funds || PartnerConnection.payoutKinds.contains(connection.kind) {
            do {
                if connection.funds {
                    funding.append(try connection.fundingProvider(environment: environment, client: client))
                } else {
                    partners.append(try connection.partner(environment: environment, client: client))
                }
            } catch {
                logger.error("payout partner connection left out", metadata: ["partner": "\(connection.name)", "error": "\(error)"])
                continue
            }
            // Without its callback secret a connection still pays, polled; its callbacks are refused.
            do {
                callbackSecrets[connection.name] = try connection.callbackSecret?.resolve(environment: environment)
            } catch {
                logger.error("payout partner callbacks refused", metadata: ["partner": "\(connection.name)", "error": "\(error)"])
            }
        }
        return PayoutPartners(partners, funding: funding, callbackSecrets: callbackSecrets, tenants: ConnectionTenants(connections))
    }
}
