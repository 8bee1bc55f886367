import XCTest
@testable import VectorSearch
