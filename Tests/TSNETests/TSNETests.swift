import XCTest
@testable import TSNE
