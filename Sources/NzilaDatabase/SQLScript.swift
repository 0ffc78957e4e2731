/// Splits a SQL script into statements, because PostgreSQL's extended protocol (the only one
/// postgres-nio speaks) takes one statement per Parse. It honours quotes, dollar quotes and comments.
public enum SQLScript {
    public static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current = ""
        let characters = Array(script)
        var index = 0
        func peek(_ offset: Int) -> Character? { index + offset < characters.count ? characters[index + offset] : nil }
        while index < characters.count {
            let character = characters[index]
            if character == "-" && peek(1) == "-" {
                while index < characters.count && characters[index] != "\n" { index += 1 }
                continue
            }
            if character == "/" && peek(1) == "*" {
                index += 2
                while index < characters.count && !(characters[index] == "*" && peek(1) == "/") { index += 1 }
                index += 2
                continue
            }
            if character == "'" || character == "\"" {
                let end = closing(of: character, in: characters, from: index)
                current += String(characters[index..<end])
                index = end
                continue
            }
            if character == "$", let tag = dollarTag(in: characters, at: index) {
                let body = index + tag.count
                let end = find(tag, in: characters, from: body).map { $0 + tag.count } ?? characters.count
                current += String(characters[index..<end])
                index = end
                continue
            }
            if character == ";" {
                append(current, to: &statements)
                current = ""
                index += 1
                continue
            }
            current.append(character)
            index += 1
        }
        append(current, to: &statements)
        return statements
    }

    /// The statements as one `DO` block, so a script runs in one round trip (PL/pgSQL runs DDL, nested
    /// `DO` blocks and dollar-quoted function bodies as written). The block's own tag cannot collide
    /// with one inside: it is checked.
    public static func anonymousBlock(_ statements: [String]) -> String {
        let tag = "$nzila_block$"
        precondition(!statements.contains { $0.contains(tag) }, "script uses the reserved dollar tag")
        return "DO \(tag) BEGIN\n" + statements.map { $0 + ";\n" }.joined() + "END \(tag)"
    }

    static func append(_ statement: String, to statements: inout [String]) {
        let trimmed = statement.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { statements.append(trimmed) }
    }

    /// The end (exclusive) of a quoted run starting at `start`; a doubled quote is an escaped quote.
    static func closing(of quote: Character, in characters: [Character], from start: Int) -> Int {
        var index = start + 1
        while index < characters.count {
            if characters[index] == quote {
                if index + 1 < characters.count && characters[index + 1] == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return characters.count
    }

    /// `$tag$` or `$$` starting at `index`, if that is what is there.
    static func dollarTag(in characters: [Character], at index: Int) -> [Character]? {
        var end = index + 1
        while end < characters.count && (characters[end].isLetter || characters[end] == "_" || (end > index + 1 && characters[end].isNumber)) {
            end += 1
        }
        guard end < characters.count && characters[end] == "$" else { return nil }
        return Array(characters[index...end])
    }

    static func find(_ tag: [Character], in characters: [Character], from start: Int) -> Int? {
        guard characters.count >= tag.count else { return nil }
        var index = start
        while index + tag.count <= characters.count {
            if Array(characters[index..<index + tag.count]) == tag { return index }
            index += 1
        }
        return nil
    }
}

import Foundation
