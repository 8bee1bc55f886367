import XCTest
@testable import Evaluation
