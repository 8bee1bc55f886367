// Placeholder until the TSNE module lands.
