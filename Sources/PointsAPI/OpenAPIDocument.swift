import Foundation
import NIOCore

/// The OpenAPI 3.1 document of the points API (`openapi.yaml` beside this file), served at
/// `/api/openapi.yaml` and checked against the running API by schemathesis in the tests.
enum OpenAPIDocument {
    static let yaml: ByteBuffer = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let data = try? Data(contentsOf: url)
        else { return ByteBuffer(string: "openapi: 3.1.0\n") }
        return ByteBuffer(bytes: data)
    }()
}
