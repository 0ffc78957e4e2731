import Foundation
import NzilaValues
import PostgresNIO

/// Ids bind and read as the `uuid` they are, so a store passes `MemberID` straight to SQL and reads
/// it straight from a row.
extension Identifier: PostgresEncodable, PostgresNonThrowingEncodable, PostgresDecodable {
    public static var psqlType: PostgresDataType { UUID.psqlType }
    public static var psqlFormat: PostgresFormat { UUID.psqlFormat }

    public func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        rawValue.encode(into: &byteBuffer, context: context)
    }

    public init<JSONDecoder: PostgresJSONDecoder>(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat, context: PostgresDecodingContext<JSONDecoder>
    ) throws {
        self.init(try UUID(from: &buffer, type: type, format: format, context: context))
    }
}
