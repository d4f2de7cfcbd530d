"""django-import-export wired to our own file reader and import services.

The admin's import screen (upload → preview → confirm) is django-import-export's, but reading
the file and deciding what to write are ours (``config.tabular`` and each app's import
service), so the admin and the ``import_*`` commands accept the same files and report the same
errors. Also here:

* import is open only to users who may add AND change the model (django-import-export lets
  everyone by default);
* uploads over ``settings.IMPORT_MAX_UPLOAD_BYTES`` are refused while they stream in
  (``config.uploads``);
* exported cells that start with ``=``, ``+``, ``-``, ``@``, tab, CR or NUL are escaped with a
  leading apostrophe so a spreadsheet shows them as text instead of running them.
"""

from __future__ import annotations

from types import SimpleNamespace

import tablib
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportExportMixin
from import_export.formats import base_formats
from import_export.forms import ExportForm, ImportForm
from import_export.results import Error, Result, RowResult

from config.tabular import FileUnreadable, RowErrors
from config.uploads import check_upload_size
from core.cells import FORMULA_START, escape_formula  # noqa: F401 - shared with the exports


def escape_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    escaped = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        escaped.append([escape_formula(cell) for cell in row])
    return escaped


class SafeCSV(base_formats.CSV):
    def get_title(self):  # the name on the export page's format choice
        return "CSV"

    def export_data(self, dataset, **kwargs):
        return escape_dataset(dataset).export("csv", **kwargs)

    def can_import(self):
        return False


class SafeXLSX(base_formats.XLSX):
    def get_title(self):
        return "XLSX"

    def export_data(self, dataset, **kwargs):
        return escape_dataset(dataset).export("xlsx", **kwargs)

    def can_import(self):
        return False


class UploadedTable:
    """The raw bytes of an upload; our reader parses them (encoding and format detected)."""

    def __init__(self, data: bytes):
        self.data = data

    def __bool__(self):
        return bool(self.data)

    def __len__(self):
        return len(self.data)


class TabularFile(base_formats.Format):
    """One import format for CSV (UTF-8/GB18030) and XLSX: the reader tells them apart."""

    def __init__(self, encoding=None):
        self.encoding = encoding

    def get_title(self):
        return "CSV / XLSX"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        return UploadedTable(bytes(in_stream))

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def get_extension(self):
        return "csv"

    def can_import(self):
        return True

    def can_export(self):
        return False


class LimitedImportForm(ImportForm):
    """The upload form, refusing files over IMPORT_MAX_UPLOAD_BYTES."""

    def clean_import_file(self):
        return check_upload_size(self.cleaned_data["import_file"])


class ServiceImportResource(resources.ModelResource):
    """A resource whose import is one of our import services.

    Subclasses set ``import_service`` (``f(*, source, actor, filename, dry_run) -> ImportResult``)
    and ``preview_columns`` (column key → header shown in the preview).
    """

    import_service = None
    import_columns: list = []  # config.tabular.Column of the file (shown on the import page)
    preview_columns: dict[str, str] = {}

    def get_user_visible_fields(self):
        """The columns of the file by their Chinese headers (those an export writes); the import
        page shows the whole table (``import_columns``)."""
        optional = _("optional")
        return [
            SimpleNamespace(column_name=c.zh + ("" if c.required else f" ({optional})"))
            for c in self.import_columns
        ]

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        result = Result()
        result.diff_headers = [str(label) for label in self.preview_columns.values()]
        data = dataset.data if isinstance(dataset, UploadedTable) else dataset
        try:
            planned = type(self).import_service(
                source=data,
                actor=kwargs.get("user"),
                filename=kwargs.get("file_name"),
                dry_run=dry_run,
            )
        except FileUnreadable as exc:
            result.append_base_error(Error(exc))
            return result
        except RowErrors as exc:
            by_row: dict[int, dict[str, list[str]]] = {}
            for error in exc.errors:
                by_row.setdefault(error.row, {}).setdefault(error.column, []).append(error.reason)
            for number, errors in by_row.items():
                result.append_invalid_row(number, {}, ValidationError(errors))
            return result
        for planned_row in planned.rows:
            row = RowResult()
            row.import_type = {
                "new": RowResult.IMPORT_TYPE_NEW,
                "update": RowResult.IMPORT_TYPE_UPDATE,
                "skip": RowResult.IMPORT_TYPE_SKIP,
            }[planned_row.action]
            row.object_repr = planned_row.label
            row.diff = []
            for key in self.preview_columns:
                if key in planned_row.changes:
                    before, after = planned_row.changes[key]
                    row.diff.append(format_html("<del>{}</del> <ins>{}</ins>", before, after))
                else:
                    row.diff.append(planned_row.values.get(key, ""))
            result.increment_row_result_total(row)
            result.append_row_result(row)
        result.total_rows = len(planned.rows)
        return result


class ImportColumnsMixin:
    """Put before django-import-export's mixin on a ModelAdmin whose resources list their
    ``import_columns``."""

    def import_action(self, request, **kwargs):
        """The upload page, with the columns the file may have (docs/import-formats.md): the
        Chinese and English headers, whether required, and what the value is."""
        response = super().import_action(request, **kwargs)
        if hasattr(response, "context_data"):
            response.context_data["import_columns"] = [
                column
                for resource in self.get_import_resource_classes(request)
                for column in resource.import_columns
            ]
        return response


class ServiceImportExportAdmin(ImportColumnsMixin, ImportExportMixin):
    """Import through our services with a preview; export with formulae escaped."""

    import_formats = [TabularFile]
    export_formats = [SafeCSV, SafeXLSX]
    import_form_class = LimitedImportForm
    export_form_class = ExportForm
    import_template_name = "admin/tongcang_import.html"

    def get_skip_admin_log(self):
        # The master-data history records each imported change with its user already.
        return True

    def has_import_permission(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)
