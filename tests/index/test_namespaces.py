"""PHP ``use`` and C# ``using`` resolve by convention (PSR-4 paths, namespace folders)."""

from __future__ import annotations

import sqlite3

import pytest

from lynkr_cli.index import api
from lynkr_cli.index.resolve import Resolver
from tests.index.helpers import make_repo

FILES = {
    "composer.json": '{"autoload": {"psr-4": {"App\\\\": "app/"}}}\n',
    "app/Models/User.php": "<?php\nnamespace App\\Models;\n\nclass User {}\n",
    "app/Http/Controllers/HomeController.php": (
        "<?php\nnamespace App\\Http\\Controllers;\n\n"
        "use App\\Models\\User;\nuse Illuminate\\Support\\Str;\n\n"
        "class HomeController { public function show() { return new User(); } }\n"
    ),
    "src/Shop/Shop.csproj": '<Project Sdk="Microsoft.NET.Sdk"></Project>\n',
    "src/Shop/Services/Mailer.cs": "namespace Shop.Services\n{\n    public class Mailer {}\n}\n",
    "src/Shop/Program.cs": (
        "using System.Linq;\nusing Shop.Services;\n\nnamespace Shop\n{\n"
        "    public class Program { public Mailer M = new Mailer(); }\n}\n"
    ),
    "lib/Acme/Text/Slug.cs": "namespace Acme.Text\n{\n    public class Slug {}\n}\n",
    "lib/Acme/Use.cs": "using Acme.Text;\n\nnamespace Acme\n{\n    public class Use {}\n}\n",
}


@pytest.fixture(scope="module")
def imports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], str | None]:
    root = make_repo(tmp_path_factory.mktemp("ns") / "repo", FILES)
    api.build(root)
    conn = sqlite3.connect(api.index_path(root))
    rows = conn.execute(
        "SELECT f.path, i.module, i.target FROM imports i JOIN files f ON f.id = i.file_id"
    ).fetchall()
    conn.close()
    return {(path, module): target for path, module, target in rows}


@pytest.mark.parametrize(
    ("source", "module", "target"),
    [
        ("app/Http/Controllers/HomeController.php", "App\\Models\\User", "app/Models/User.php"),
        ("app/Http/Controllers/HomeController.php", "Illuminate\\Support\\Str", None),
        ("src/Shop/Program.cs", "Shop.Services", "src/Shop/Services/"),
        ("src/Shop/Program.cs", "System.Linq", None),
        ("lib/Acme/Use.cs", "Acme.Text", "lib/Acme/Text/"),
    ],
)
def test_namespace_imports_resolve_by_convention(
    imports: dict[tuple[str, str], str | None], source: str, module: str, target: str | None
) -> None:
    assert (source, module) in imports, sorted(imports)
    assert imports[(source, module)] == target


def test_php_leading_backslash_and_alias_and_case() -> None:
    resolver = Resolver(["app/Models/User.php", "src/Other/User.php"])
    assert resolver.resolve("php", "x.php", "\\App\\Models\\User") == "app/Models/User.php"
    assert resolver.resolve("php", "x.php", "App\\Models\\User as U") == "app/Models/User.php"
    assert resolver.resolve("php", "x.php", "Vendor\\Models\\User") is None
    assert resolver.resolve("php", "x.php", "") is None


def test_csharp_root_namespace_from_the_project_file() -> None:
    resolver = Resolver(["Api.csproj", "Controllers/Home.cs", "Program.cs"])
    assert resolver.resolve("csharp", "Program.cs", "Api.Controllers") == "Controllers/"
    assert resolver.resolve("csharp", "Program.cs", "Api") == "./"
    assert resolver.resolve("csharp", "Program.cs", "Other.Controllers") is None
