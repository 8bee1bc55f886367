print("Experiments: not yet")
