# ruff: noqa: E501  (tables of test data read better unwrapped)
"""One small, real source tree per supported language."""

from __future__ import annotations

SAMPLES: dict[str, str] = {
    "pyproject.toml": '[project]\nname = "polyglot"\ndescription = "Every language at once."\n'
    'dependencies = ["requests>=2", "click"]\n\n[tool.ruff]\nline-length = 99\n\n'
    '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n',
    "pkg/__init__.py": "",
    "pkg/util.py": "def slugify(text):\n    return text.lower()\n\n\nclass Registry:\n"
    "    def add(self, item):\n        return slugify(item)\n\n\nshout = lambda text: text.upper()\n"
    "MAX_ITEMS = 10\n",
    "app.py": "from pkg.util import slugify, Registry\nimport pkg\n\n\ndef main():\n"
    '    Registry().add("x")\n    return slugify("Hello")\n',
    "web/math.js": "export function addNumbers(a, b) {\n  return a + b;\n}\n\n"
    "export class Calculator {\n  total(items) {\n    return items.reduce(addNumbers, 0);\n  }\n}\n",
    "web/main.js": 'import { addNumbers, Calculator } from "./math.js";\n'
    "const calc = new Calculator();\naddNumbers(1, 2);\n",
    "ts/shapes.ts": "export interface Shape {\n  area(): number;\n}\n\n"
    "export class Circle implements Shape {\n  area(): number {\n    return 3;\n  }\n}\n\n"
    "export type Size = number;\nexport enum Color {\n  Red,\n}\n"
    "export const makeCircle = (): Circle => new Circle();\n",
    "ts/use.ts": 'import { makeCircle } from "./shapes";\n\nmakeCircle().area();\n',
    "ui/Button.tsx": "interface ButtonProps {\n  label: string;\n}\n\n"
    "export function Button(props: ButtonProps) {\n  return <button>{props.label}</button>;\n}\n",
    "go.mod": "module example.com/demo\n\ngo 1.22\n\nrequire github.com/spf13/cobra v1.8.0\n",
    "greet/greet.go": 'package greet\n\nfunc Hello(name string) string {\n\treturn "hi " + name\n}\n\n'
    'type Greeter struct{}\n\nfunc (g Greeter) Greet() string {\n\treturn Hello("x")\n}\n',
    "main.go": 'package main\n\nimport "example.com/demo/greet"\n\nfunc main() {\n'
    '\tgreet.Hello("world")\n}\n',
    "src/lib.rs": "mod shapes;\n\npub fn area_total() -> u32 {\n    shapes::square_area(2)\n}\n",
    "src/shapes.rs": "pub struct Square;\n\npub fn square_area(x: u32) -> u32 {\n    x * x\n}\n\n"
    "pub trait Area {\n    fn area(&self) -> u32;\n}\n",
    "java/com/demo/Util.java": "package com.demo;\n\npublic class Util {\n"
    "    public static int twice(int x) {\n        return x * 2;\n    }\n}\n",
    "java/com/demo/App.java": "package com.demo;\n\nimport com.demo.Util;\n\npublic class App {\n"
    "    int run() {\n        return Util.twice(2);\n    }\n}\n",
    "csrc/lib.h": "int c_add(int a, int b);\n",
    "csrc/lib.c": '#include "lib.h"\n\nint c_add(int a, int b) {\n    return a + b;\n}\n\n'
    "struct point {\n    int x;\n};\n",
    "csrc/main.c": '#include "lib.h"\n#include <stdio.h>\n\nint main(void) {\n'
    "    return c_add(1, 2);\n}\n",
    "cpp/widget.hpp": "class Widget {\n public:\n  int size() const;\n};\n",
    "cpp/widget.cpp": '#include "widget.hpp"\n\nint make_widget() {\n  Widget w;\n'
    "  return w.size();\n}\n",
    "cs/Service.cs": "namespace Demo\n{\n    public class Service\n    {\n"
    "        public int Compute() { return Helper(); }\n"
    "        private int Helper() { return 1; }\n    }\n\n    public interface IThing {}\n}\n",
    "rb/lib/shop.rb": "module Shop\n  class Cart\n    def total\n      compute_total\n"
    "    end\n  end\nend\n",
    "rb/app.rb": 'require_relative "lib/shop"\n\nShop::Cart.new.total\n',
    "php/Order.php": "<?php\nnamespace App;\n\nclass Order\n{\n    public function place()\n"
    "    {\n        return format_order($this);\n    }\n}\n\n"
    'function format_order($o)\n{\n    return "x";\n}\n',
    "scripts/build.sh": '#!/bin/bash\nsource ./lib.sh\n\nbuild_all() {\n  log_line "building"\n}\n\n'
    "build_all\n",
    "scripts/lib.sh": 'log_line() {\n  echo "$1"\n}\n',
    "kt/com/shop/Pricing.kt": "package com.shop\n\nobject Pricing {\n    fun discount(total: Int): Int = total / 10\n}\n\n"
    "typealias Cents = Int\n",
    "kt/com/shop/Basket.kt": "package com.shop\n\nimport com.shop.Pricing\n\ninterface Priced {\n    fun price(): Int\n}\n\n"
    "class Basket(val items: List<Int>) : Priced {\n    val size: Int = 0\n\n"
    "    override fun price(): Int {\n        return Pricing.discount(items.sum())\n    }\n}\n",
    "Sources/Shelf/Shelf.swift": "public protocol Stackable {\n    func weight() -> Int\n}\n\n"
    "public struct Shelf {\n    var capacity = 10\n    public func fits(_ n: Int) -> Bool { return n < capacity }\n}\n\n"
    "public func makeShelf() -> Shelf { return Shelf() }\n",
    "Sources/App/main.swift": "import Foundation\nimport Shelf\n\nclass Store: Stackable {\n"
    "    func weight() -> Int { return 1 }\n    func stock() { let s = makeShelf(); print(s.fits(3)) }\n}\n",
    "scala/com/shop/Ledger.scala": "package com.shop\n\ntrait Account {\n  def balance: Int\n}\n\n"
    "class Ledger extends Account {\n  val entries: Int = 0\n  def balance: Int = Tax.rate(entries)\n}\n",
    "scala/com/shop/Tax.scala": "package com.shop\n\nimport com.shop.Ledger\n\nobject Tax {\n"
    "  def rate(x: Int): Int = x / 5\n  def ledger(): Ledger = new Ledger()\n}\n\ncase class Receipt(total: Int)\n",
    "lua/shop/util.lua": "local M = {}\n\nfunction M.round_price(x)\n  return math.floor(x)\nend\n\n"
    "function M:describe() return 'util' end\n\nlocal function helper() return 1 end\n\nreturn M\n",
    "lua/main.lua": 'local util = require("shop.util")\n\nfunction checkout(total)\n'
    "  return util.round_price(total)\nend\n",
    "README.md": "# polyglot\n",
}

# language -> [(name, kind, path)] that must be found as definitions
DEFINITIONS: dict[str, list[tuple[str, str, str]]] = {
    "python": [("slugify", "function", "pkg/util.py"), ("Registry", "class", "pkg/util.py"),
               ("add", "function", "pkg/util.py"), ("shout", "function", "pkg/util.py"),
               ("MAX_ITEMS", "constant", "pkg/util.py")],
    "javascript": [("addNumbers", "function", "web/math.js"), ("Calculator", "class", "web/math.js"),
                   ("total", "method", "web/math.js")],
    "typescript": [("Shape", "interface", "ts/shapes.ts"), ("Circle", "class", "ts/shapes.ts"),
                   ("Size", "type", "ts/shapes.ts"), ("Color", "enum", "ts/shapes.ts"),
                   ("makeCircle", "function", "ts/shapes.ts"), ("area", "method", "ts/shapes.ts")],
    "tsx": [("Button", "function", "ui/Button.tsx"), ("ButtonProps", "interface", "ui/Button.tsx")],
    "go": [("Hello", "function", "greet/greet.go"), ("Greeter", "type", "greet/greet.go"),
           ("Greet", "method", "greet/greet.go")],
    "rust": [("area_total", "function", "src/lib.rs"), ("square_area", "function", "src/shapes.rs"),
             ("Square", "class", "src/shapes.rs"), ("Area", "interface", "src/shapes.rs")],
    "java": [("Util", "class", "java/com/demo/Util.java"), ("twice", "method", "java/com/demo/Util.java")],
    "c": [("c_add", "function", "csrc/lib.c"), ("point", "class", "csrc/lib.c")],
    "cpp": [("Widget", "class", "cpp/widget.hpp"), ("make_widget", "function", "cpp/widget.cpp")],
    "csharp": [("Service", "class", "cs/Service.cs"), ("Compute", "method", "cs/Service.cs"),
               ("IThing", "interface", "cs/Service.cs")],
    "ruby": [("Shop", "module", "rb/lib/shop.rb"), ("Cart", "class", "rb/lib/shop.rb"),
             ("total", "method", "rb/lib/shop.rb")],
    "php": [("Order", "class", "php/Order.php"), ("place", "function", "php/Order.php"),
            ("format_order", "function", "php/Order.php")],
    "bash": [("build_all", "function", "scripts/build.sh"), ("log_line", "function", "scripts/lib.sh")],
    "kotlin": [("Pricing", "class", "kt/com/shop/Pricing.kt"), ("discount", "function", "kt/com/shop/Pricing.kt"),
               ("Cents", "type", "kt/com/shop/Pricing.kt"), ("Priced", "class", "kt/com/shop/Basket.kt"),
               ("Basket", "class", "kt/com/shop/Basket.kt"), ("price", "function", "kt/com/shop/Basket.kt"),
               ("size", "property", "kt/com/shop/Basket.kt")],
    "swift": [("Stackable", "interface", "Sources/Shelf/Shelf.swift"), ("Shelf", "class", "Sources/Shelf/Shelf.swift"),
              ("fits", "function", "Sources/Shelf/Shelf.swift"), ("capacity", "property", "Sources/Shelf/Shelf.swift"),
              ("makeShelf", "function", "Sources/Shelf/Shelf.swift"), ("Store", "class", "Sources/App/main.swift"),
              ("stock", "function", "Sources/App/main.swift")],
    "scala": [("Account", "interface", "scala/com/shop/Ledger.scala"), ("Ledger", "class", "scala/com/shop/Ledger.scala"),
              ("balance", "function", "scala/com/shop/Ledger.scala"), ("entries", "property", "scala/com/shop/Ledger.scala"),
              ("Tax", "class", "scala/com/shop/Tax.scala"), ("rate", "function", "scala/com/shop/Tax.scala"),
              ("Receipt", "class", "scala/com/shop/Tax.scala")],
    "lua": [("round_price", "function", "lua/shop/util.lua"), ("describe", "method", "lua/shop/util.lua"),
            ("helper", "function", "lua/shop/util.lua"), ("checkout", "function", "lua/main.lua")],
}  # fmt: skip

# language -> (name, file that references it)
REFERENCES: dict[str, tuple[str, str]] = {
    "python": ("slugify", "app.py"),
    "javascript": ("addNumbers", "web/main.js"),
    "typescript": ("makeCircle", "ts/use.ts"),
    "tsx": ("ButtonProps", "ui/Button.tsx"),
    "go": ("Hello", "main.go"),
    "rust": ("square_area", "src/lib.rs"),
    "java": ("twice", "java/com/demo/App.java"),
    "c": ("c_add", "csrc/main.c"),
    "cpp": ("size", "cpp/widget.cpp"),
    "csharp": ("Helper", "cs/Service.cs"),
    "ruby": ("total", "rb/app.rb"),
    "php": ("format_order", "php/Order.php"),
    "bash": ("log_line", "scripts/build.sh"),
    "kotlin": ("discount", "kt/com/shop/Basket.kt"),
    "swift": ("makeShelf", "Sources/App/main.swift"),
    "scala": ("rate", "scala/com/shop/Ledger.scala"),
    "lua": ("round_price", "lua/main.lua"),
}

# (importing file, import text, resolved target)
IMPORTS: list[tuple[str, str, str]] = [
    ("app.py", "pkg.util", "pkg/util.py"),
    ("app.py", "pkg", "pkg/__init__.py"),
    ("web/main.js", "./math.js", "web/math.js"),
    ("ts/use.ts", "./shapes", "ts/shapes.ts"),
    ("main.go", '"example.com/demo/greet"', "greet/"),
    ("src/lib.rs", "shapes", "src/shapes.rs"),
    ("java/com/demo/App.java", "com.demo.Util", "java/com/demo/Util.java"),
    ("csrc/main.c", '"lib.h"', "csrc/lib.h"),
    ("cpp/widget.cpp", '"widget.hpp"', "cpp/widget.hpp"),
    ("rb/app.rb", "lib/shop", "rb/lib/shop.rb"),
    ("scripts/build.sh", "./lib.sh", "scripts/lib.sh"),
    ("kt/com/shop/Basket.kt", "com.shop.Pricing", "kt/com/shop/Pricing.kt"),
    ("Sources/App/main.swift", "Shelf", "Sources/Shelf/"),
    ("scala/com/shop/Tax.scala", "import com.shop.Ledger", "scala/com/shop/Ledger.scala"),
    ("lua/main.lua", "shop.util", "lua/shop/util.lua"),
]
