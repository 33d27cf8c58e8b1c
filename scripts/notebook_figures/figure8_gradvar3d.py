# Figure 8 comes from the same run as Figure 7 (the cell above); with RUN_SLOW = True it is shown here.
from pathlib import Path

from IPython.display import Image, display

path = Path("out/figure6/compare_gradvar3d.png")
if globals().get("RUN_SLOW", False) and path.is_file():
    display(Image(filename=str(path)))
else:
    print(f"(drawn into {path} by the cell above when RUN_SLOW = True; the figure above is the book's)")
