@main struct Nzila { static func main() {} }
