import NzilaValues

public enum ScreeningTag {}
public enum ReportTag {}
public enum KYCDocumentTag {}

/// A screening of a name against the sanctions lists.
public typealias ScreeningID = Identifier<ScreeningTag>
/// A FINTRAC report (STR or EFTR).
public typealias ReportID = Identifier<ReportTag>
/// A piece of KYC evidence.
public typealias KYCDocumentID = Identifier<KYCDocumentTag>
