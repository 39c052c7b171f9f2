/// QuantModel: integer model description, .s2cq file and integer graph (placeholder).
public enum QuantModelInfo { public static let formatVersion = 1 }
