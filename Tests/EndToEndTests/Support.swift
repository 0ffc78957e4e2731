// The tests' shared helpers (`eventually`), visible in every file of this target.
@_exported import NzilaTestSupport
