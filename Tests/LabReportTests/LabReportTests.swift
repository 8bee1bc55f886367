import XCTest
@testable import LabReport
