print("s2c-int: not implemented yet")
