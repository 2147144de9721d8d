import CFuzzDriver

/// What each target's `<Target>_main` does: hands libFuzzer the arguments and the callback.
///
/// SwiftPM links a debug executable with `--defsym main=<Target>_main` (so that tests can link
/// its module), which hides libFuzzer's own main; the target defines that symbol and so runs
/// libFuzzer's driver itself. In a release build libFuzzer's main is used and this is unused.
public func runFuzzer(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}
