"""Converts Sigma rules to Lucene queries over HELK's normalized events, one JSON report line per rule.

Reads one JSON request on stdin (see detections/convert.ts, ConverterRequest) and writes one JSON object per
rule file on stdout. Rules come from folders of .yml files or .tar.gz archives of them. Per rule:
  converted    a query was produced (fields[], unmapped_fields[] say what it searches)
  unsupported  pySigma or the backend could not express it, its log source maps to no Windows channel, or it
               searches keywords without a field
  not_selected outside the level / status / tag selection
  invalid      not a valid Sigma rule (YAML or schema error)
"""
import json
import os
import sys
import tarfile

from sigma.backends.elasticsearch import LuceneBackend
from sigma.backends.opensearch import OpensearchLuceneBackend
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError
from sigma.pipelines.sysmon import sysmon_pipeline
from sigma.pipelines.windows import windows_logsource_pipeline
from sigma.processing.conditions import IncludeFieldCondition, LogsourceCondition, RuleProcessingItemAppliedCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (CaseTransformation, FieldFunctionTransformation,
                                              HashesFieldsDetectionItemTransformation, RuleFailureTransformation)
from sigma.rule import SigmaDetection, SigmaDetectionItem

# Hash algorithms HashesFieldsDetectionItemTransformation names fields after, and where hashes.ts puts them.
HASH_FIELDS = {"MD5": "hash_md5", "SHA1": "hash_sha1", "SHA256": "hash_sha256", "IMPHASH": "hash_imphash"}
# How the report names the HELK field of Sigma's Hashes (split into the single hash fields).
SPLIT_HASHES = "/".join(HASH_FIELDS.values())

# Elasticsearch's and OpenSearch's default indices.query.bool.max_clause_count: a longer OR list is refused.
MAX_CLAUSES = 1024

BACKENDS = {"opensearch": OpensearchLuceneBackend, "elasticsearch": LuceneBackend}


def helk_pipeline(request):
    """Sigma's Windows field names -> HELK's normalized names; every other field is searched in event_data."""
    field_map = {**request["fieldMap"], **HASH_FIELDS}

    def raw_field(field):
        # normalize.ts keeps unmapped event data under event_data.<name>, with dots turned into "_".
        return "event_data." + field.replace(".", "_")

    channel_items = [item for item in windows_logsource_pipeline().items
                     if item.identifier and item.identifier.startswith("windows_logsource_")]
    return ProcessingPipeline(
        name="HELK normalized Windows events",
        priority=100,
        items=[
            # A rule whose log source neither pipeline placed on a Windows channel would search every event.
            ProcessingItem(
                identifier="helk_logsource_without_channel",
                transformation=RuleFailureTransformation("log source has no Windows event channel HELK collects"),
                rule_condition_negation=True,
                rule_condition_linking=any,
                rule_conditions=[RuleProcessingItemAppliedCondition(item.identifier) for item in channel_items],
            ),
            # "Hashes|contains: MD5=..." would be a double-wildcard search of the whole Hashes text (hundreds of them
            # in the vulnerable-driver rules take minutes); hashes.ts splits Hashes, so search the single hash fields.
            ProcessingItem(
                identifier="helk_split_hashes",
                transformation=HashesFieldsDetectionItemTransformation(valid_hash_algos=list(HASH_FIELDS)),
            ),
            ProcessingItem(
                identifier="helk_field_mapping",
                transformation=FieldFunctionTransformation(mapping=field_map, transform_func=raw_field),
            ),
            ProcessingItem(
                identifier="helk_lower_case_fields",
                transformation=CaseTransformation(method="lower"),
                field_name_conditions=[IncludeFieldCondition(fields=request["lowerCaseFields"])],
            ),
        ],
    )


def rule_sources(paths):
    """(name, YAML text) of every .yml/.yaml rule under the given folders and .tar.gz archives, sorted by name."""
    for path in paths:
        if os.path.isdir(path):
            found = []
            for root, _dirs, files in os.walk(path):
                found += [os.path.join(root, f) for f in files if f.endswith((".yml", ".yaml"))]
            for file in sorted(found):
                with open(file, encoding="utf-8") as text:
                    yield file, text.read()
        elif path.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path, "r:gz") as archive:
                members = sorted((m for m in archive.getmembers() if m.isfile() and m.name.endswith((".yml", ".yaml"))),
                                 key=lambda m: m.name)
                for member in members:
                    yield f"{path}!{member.name}", archive.extractfile(member).read().decode("utf-8")
        else:
            raise SystemExit(f"rule source {path} is neither a folder nor a .tar.gz archive")


def detection_fields(rule):
    """The field names a rule's detection uses (first-use order), whether it has keyword (field-less) items, and
    the longest list of values one item has."""
    fields = []
    keywords = False
    longest = 0

    def walk(item):
        nonlocal keywords, longest
        if isinstance(item, SigmaDetection):
            for child in item.detection_items:
                walk(child)
        elif isinstance(item, SigmaDetectionItem):
            longest = max(longest, len(item.value))
            if item.field is None:
                keywords = True
            elif item.field not in fields:
                fields.append(item.field)

    for detection in rule.detection.detections.values():
        walk(detection)
    return fields, keywords, longest


def selected(rule, selection):
    level = rule.level.name.lower() if rule.level else None
    status = rule.status.name.lower() if rule.status else None
    tags = {f"{tag.namespace}.{tag.name}".lower() for tag in rule.tags}
    if selection.get("levels") and level not in selection["levels"]:
        return f"level {level} not in {', '.join(selection['levels'])}"
    if selection.get("statuses") and status not in selection["statuses"]:
        return f"status {status} not in {', '.join(selection['statuses'])}"
    if selection.get("tags") and not tags.intersection(t.lower() for t in selection["tags"]):
        return f"no tag of {', '.join(selection['tags'])}"
    return None


def describe(rule):
    return {
        "id": str(rule.id) if rule.id else None,
        "title": rule.title,
        "level": rule.level.name.lower() if rule.level else None,
        "status": rule.status.name.lower() if rule.status else None,
        "tags": [f"{tag.namespace}.{tag.name}" for tag in rule.tags],
        "author": rule.author,
        "logsource": {k: v for k, v in (("product", rule.logsource.product), ("category", rule.logsource.category),
                                        ("service", rule.logsource.service)) if v},
    }


def main():
    request = json.load(sys.stdin)
    pipeline = sysmon_pipeline() + windows_logsource_pipeline() + helk_pipeline(request)
    backend = BACKENDS[request["backend"]](processing_pipeline=pipeline)
    unindexed = set(request["unindexedFields"])
    field_map = {**request["fieldMap"], "Hashes": SPLIT_HASHES, "Hash": SPLIT_HASHES}
    out = sys.stdout
    for file, text in rule_sources(request["sources"]):
        report = {"file": file}
        try:
            rules = SigmaCollection.from_yaml(text).rules
        except SigmaError as error:
            out.write(json.dumps({**report, "outcome": "invalid", "reason": str(error)}) + "\n")
            continue
        for rule in rules:
            if isinstance(rule, SigmaCorrelationRule):
                out.write(json.dumps({**report, "id": str(rule.id), "title": rule.title, "outcome": "unsupported",
                                      "reason": "correlation rules are not run by the HELK scheduler"}) + "\n")
                continue
            entry = {**report, **describe(rule)}
            if rule.errors:
                out.write(json.dumps({**entry, "outcome": "invalid", "reason": str(rule.errors[0])}) + "\n")
                continue
            not_selected = selected(rule, request["selection"])
            if not_selected:
                out.write(json.dumps({**entry, "outcome": "not_selected", "reason": not_selected}) + "\n")
                continue
            fields, keywords, longest = detection_fields(rule)
            entry["fields"] = [{"sigma": f, "helk": field_map.get(f) or "event_data." + f.replace(".", "_")}
                               for f in fields if f not in unindexed]
            entry["unmapped_fields"] = [f for f in fields if f in unindexed]
            if keywords:
                # A field-less value becomes *value* over every field of every event: seconds to minutes a search.
                out.write(json.dumps({**entry, "outcome": "unsupported",
                                      "reason": "keyword (field-less) search: HELK searches named fields"}) + "\n")
                continue
            if longest > MAX_CLAUSES:
                out.write(json.dumps({**entry, "outcome": "unsupported",
                                      "reason": f"{longest} values in one list, over the engine's {MAX_CLAUSES}-clause limit"}) + "\n")
                continue
            try:
                queries = backend.convert_rule(rule)
            except SigmaError as error:
                out.write(json.dumps({**entry, "outcome": "unsupported", "reason": str(error)}) + "\n")
                continue
            if len(queries) != 1 or not isinstance(queries[0], str):
                out.write(json.dumps({**entry, "outcome": "unsupported",
                                      "reason": f"backend produced {len(queries)} queries, expected one"}) + "\n")
                continue
            out.write(json.dumps({**entry, "outcome": "converted", "query": queries[0]}) + "\n")


if __name__ == "__main__":
    main()
