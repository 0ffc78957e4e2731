import Foundation
import NzilaCore
import Synchronization
import Testing

@Suite("Movable clock")
struct MovableClockTests {
    /// A machine clock the test sets by hand.
    final class Machine: Sendable {
        let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func read() -> Date { time.withLock { $0 } }
        func pass(_ seconds: Double) { time.withLock { $0.addTimeInterval(seconds) } }
    }

    @Test("runs at the machine's pace from its offset; moves forward only; a late, smaller offset is ignored")
    func offsets() {
        let machine = Machine()
        let clock = MovableClock(offsetSeconds: 10, machine: { machine.read() })
        #expect(clock.now() == machine.read().addingTimeInterval(10))
        machine.pass(5)
        #expect(clock.now() == machine.read().addingTimeInterval(10), "time passes with the machine's")
        clock.advance(seconds: 3_600)
        #expect(clock.offsetSeconds == 3_610 && clock.now() == machine.read().addingTimeInterval(3_610))
        clock.adopt(offsetMicroseconds: 1_000_000)
        #expect(clock.offsetSeconds == 3_610, "an older announcement does not move it back")
        clock.adopt(offsetMicroseconds: 7_200_000_000)
        #expect(clock.offsetMicroseconds == 7_200_000_000)
        #expect(Clock.movable(clock).now() == clock.now() && Clock.movable(clock).movable === clock && Clock.system.movable == nil)
    }

    @Test("a frozen clock stands still until moved")
    func frozen() {
        let machine = Machine()
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let clock = MovableClock(frozenAt: start, machine: { machine.read() })
        machine.pass(60)
        #expect(clock.now() == start && clock.isFrozen)
        clock.advance(seconds: 1.5)
        #expect(clock.now() == start.addingTimeInterval(1.5))
        clock.adopt(offsetMicroseconds: 99_000_000)
        #expect(clock.now() == start.addingTimeInterval(1.5), "a frozen clock is moved by hand only")
    }

    @Test("every move is announced to each subscriber; a reader behind gets the newest once")
    func announcements() async {
        let clock = MovableClock()
        let first = clock.moves()
        let second = clock.moves()
        clock.advance(seconds: 1)
        clock.advance(seconds: 1)
        clock.adopt(offsetMicroseconds: 1)  // not a move: behind
        var iterator = first.makeAsyncIterator()
        #expect(await iterator.next() != nil)
        var other = second.makeAsyncIterator()
        #expect(await other.next() != nil)
        clock.advance(seconds: 1)
        #expect(await iterator.next() != nil)
    }
}
