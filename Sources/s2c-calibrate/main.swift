print("s2c-calibrate: not implemented yet")
