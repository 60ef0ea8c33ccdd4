"""SWE-bench's prompt formats (swebench.inference.make_datasets.create_instance), text for text.

`style-3` is the format of SWE-bench's published text datasets (`SWE-bench_oracle`, `SWE-bench_bm25_13K`…):
the issue, README files and retrieved source files with line numbers, an example patch, and the request
for one patch. tests/test_swebench.py compares `prompt_style_3` with the package's own function.
"""
from __future__ import annotations

from typing import Any

PATCH_EXAMPLE = """--- a/file.py
+++ b/file.py
@@ -1,27 +1,35 @@
 def euclidean(a, b):
-    while b:
-        a, b = b, a % b
-    return a
+    if b == 0:
+        return a
+    return euclidean(b, a % b)
 
 
 def bresenham(x0, y0, x1, y1):
     points = []
     dx = abs(x1 - x0)
     dy = abs(y1 - y0)
-    sx = 1 if x0 < x1 else -1
-    sy = 1 if y0 < y1 else -1
-    err = dx - dy
+    x, y = x0, y0
+    sx = -1 if x0 > x1 else 1
+    sy = -1 if y0 > y1 else 1
 
-    while True:
-        points.append((x0, y0))
-        if x0 == x1 and y0 == y1:
-            break
-        e2 = 2 * err
-        if e2 > -dy:
+    if dx > dy:
+        err = dx / 2.0
+        while x != x1:
+            points.append((x, y))
             err -= dy
-            x0 += sx
-        if e2 < dx:
-            err += dx
-            y0 += sy
+            if err < 0:
+                y += sy
+                err += dx
+            x += sx
+    else:
+        err = dy / 2.0
+        while y != y1:
+            points.append((x, y))
+            err -= dx
+            if err < 0:
+                x += sx
+                err += dy
+            y += sy
 
+    points.append((x, y))
     return points"""


def add_lines(content: str) -> str:
    return "\n".join(f"{ix} {line}" for ix, line in enumerate(content.split("\n"), start=1))


def make_code_text(files: dict[str, str], add_line_numbers: bool = True) -> str:
    text = ""
    for filename, contents in sorted(files.items()):
        text += f"[start of {filename}]\n"
        text += add_lines(contents) if add_line_numbers else contents
        text += f"\n[end of {filename}]\n"
    return text.strip("\n")


def prompt_style_3(instance: dict[str, Any]) -> str:
    """instance: problem_statement, readmes {name: text}, file_contents {path: text}."""
    return "\n".join([
        "You will be provided with a partial code base and an issue statement explaining a problem to resolve.",
        "<issue>", instance["problem_statement"], "</issue>", "", "<code>",
        make_code_text(instance["readmes"]), make_code_text(instance["file_contents"]), "</code>", "",
        "Here is an example of a patch file. It consists of changes to the code base. It specifies the file names, "
        "the line numbers of each change, and the removed and added lines. A single patch file can contain changes "
        "to multiple files.",
        "<patch>", PATCH_EXAMPLE, "</patch>", "",
        "I need you to solve the provided issue by generating a single patch file that I can apply directly to this "
        "repository using git apply. Please respond with a single patch file in the format shown above.",
        "Respond below:",
    ])


def prompt_agent(instance: dict[str, Any]) -> str:
    """For an agent working in the repository (in the spirit of mini-SWE-agent's instance prompt): the issue,
    where the code is, what to change, and how to finish. The code is not in the prompt: the agent reads it."""
    return "\n".join([
        "<issue>", instance["problem_statement"], "</issue>", "",
        "The repository this issue is about is your working directory, at the commit the issue was reported "
        "against. Use the tools to read files, run commands (reproduce the problem, run the tests) and edit files; "
        "paths are relative to the repository root.",
        "Edit the repository to fix the issue: change non-test files, in a way that is general and consistent "
        "with the code base.",
        "When the fix is done, finish by replying DONE without a tool call: your changes to the repository "
        "(its git diff) are your answer.",
    ])


PROMPT_STYLES = {"style-3": prompt_style_3, "agent": prompt_agent}
