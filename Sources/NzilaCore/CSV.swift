import Foundation

/// RFC 4180 records: fields split by commas, quoted fields may hold commas, quotes ("") and line
/// breaks; blank lines are skipped.
public enum CSV {
    public static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text)
        chars.append("\n")
        var index = 0
        while index < chars.count {
            let char = chars[index]
            if quoted {
                if char == "\"" {
                    if index + 1 < chars.count, chars[index + 1] == "\"" {
                        field.append("\"")
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(char)
                }
            } else if char == "\"" && field.isEmpty {
                quoted = true
            } else if char == "," {
                record.append(field)
                field = ""
            } else if char == "\n" || char == "\r\n" {
                record.append(field)
                field = ""
                if record != [""] { records.append(record) }
                record = []
            } else if char != "\r" {
                field.append(char)
            }
            index += 1
        }
        return records
    }
}
