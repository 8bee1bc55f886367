/// A part of a data set: the images a model may learn from, or those held out.
public enum DataSplit: String, CaseIterable, Sendable, Codable {
    case train, test
}
