/// Double equality that holds NaN equal to NaN (a MessagePack float may be a NaN, which `==`
/// never calls equal to itself).
public func sameNumber(_ a: Double, _ b: Double) -> Bool {
    a == b || (a.isNaN && b.isNaN)
}
