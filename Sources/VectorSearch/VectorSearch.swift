// Placeholder until the VectorSearch module lands.
