import XCTest
@testable import ResNet
