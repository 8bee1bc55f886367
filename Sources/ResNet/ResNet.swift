// Placeholder until the ResNet module lands.
