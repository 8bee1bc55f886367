import XCTest
@testable import ImageData
