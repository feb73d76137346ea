print("kbs")
