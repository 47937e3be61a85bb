print("placeholder: the store stress tool is being written")
