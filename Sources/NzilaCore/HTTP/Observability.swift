import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The process's metrics: swift-metrics everywhere in the code, backed by one Prometheus registry
/// that each plane exposes at `GET /metrics` (behind `NZILA_METRICS_TOKEN`). Bootstrapped once per
/// process, before any metric is made.
public enum Observability {
    public static let registry = PrometheusCollectorRegistry()
    static let bootstrapped = Mutex(false)
    /// `NZILA_METRICS=off` records nothing (the benchmark of their cost compares both).
    public static let enabled = Env().string("NZILA_METRICS", default: "on") != "off"

    public static func bootstrap() {
        let first = bootstrapped.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64]
        MetricsSystem.bootstrap(factory)
    }

    /// The registry in Prometheus' text format.
    public static func exposition() -> String { registry.emitToString() }

    /// Counts one event of `name` with `dimensions` (bounded label values only: routes as templates,
    /// states, tenants' slugs).
    public static func count(_ name: String, _ dimensions: [(String, String)] = [], by amount: Int = 1) {
        guard enabled else { return }
        handle(name, dimensions) { Counter(label: name, dimensions: dimensions) }.increment(by: amount)
    }

    public static func record(_ name: String, _ dimensions: [(String, String)] = [], seconds: Double) {
        guard enabled else { return }
        handle(name, dimensions) { Timer(label: name, dimensions: dimensions) }.recordNanoseconds(Int64(seconds * 1_000_000_000))
    }

    public static func record(_ name: String, _ dimensions: [(String, String)] = [], value: Int) {
        guard enabled else { return }
        handle(name, dimensions) { Recorder(label: name, dimensions: dimensions, aggregate: true) }.record(value)
    }

    /// Adds `delta` to a gauge that goes up and down (transactions in flight).
    public static func adjust(_ name: String, _ dimensions: [(String, String)] = [], by delta: Int) {
        guard enabled else { return }
        let meter = handle(name, dimensions) { Meter(label: name, dimensions: dimensions) }
        if delta >= 0 { meter.increment(by: Double(delta)) } else { meter.decrement(by: Double(-delta)) }
    }

    /// Metric objects by name and labels, made once: making one asks the registry under its lock.
    static let handles = Mutex<[String: AnyObject]>([:])

    static func handle<Metric: AnyObject>(_ name: String, _ dimensions: [(String, String)], make: () -> Metric) -> Metric {
        var key = name
        for (label, value) in dimensions {
            key += "\u{1}" + label + "\u{2}" + value
        }
        return handles.withLock { all in
            if let known = all[key] as? Metric { return known }
            if all.count >= 200_000 { all.removeAll(keepingCapacity: true) }
            let made = make()
            all[key] = made
            return made
        }
    }
}

extension Duration {
    /// The duration in seconds, as metrics and reports show it.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
