"""Every reducer and clusterer runs on small data; failures are specific errors."""

import numpy as np
import pytest
import yaml

from conftest import REPO
from zsc.config import SCHEMA_PATH
from zsc.methods.clusterers import CLUSTERER_METHODS as CLUSTERERS
from zsc.methods.clusterers import ClustererError, cluster, quantile_eps, resolve_k
from zsc.methods.reducers import (
    COMMON_PARAMS,
    REDUCER_METHODS,
    ReducerError,
    reduce,
    tsne_perplexity,
    umap_neighbors,
)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 20, size=(3, 16))
    x = np.concatenate([c + rng.normal(0, 1, size=(40, 16)) for c in centres])
    return x.astype(np.float32), np.repeat([0, 1, 2], 40)


def test_every_configured_reducer_and_clusterer_is_registered():
    for name in ("config.yaml", "paper.yaml"):
        config = yaml.safe_load((REPO / "config" / name).read_text())
        assert {spec["method"] for spec in config["reducers"].values()} <= set(REDUCER_METHODS)
        assert {spec["method"] for spec in config["clusterers"].values()} <= set(CLUSTERERS)


@pytest.mark.parametrize("method", sorted(REDUCER_METHODS))
def test_reducer_round_trip(method, blobs):
    x, _ = blobs
    out = reduce(x, {"method": method}, seed=0)
    assert out.shape == (len(x), 2) and out.dtype == np.float32 and np.isfinite(out).all()
    again = reduce(x, {"method": method}, seed=0)
    np.testing.assert_allclose(out, again, rtol=1e-5, atol=1e-5)  # seeded


@pytest.mark.parametrize("method", sorted(CLUSTERERS))
def test_clusterer_recovers_blobs(method, blobs):
    from sklearn.metrics import adjusted_rand_score

    x, truth = blobs
    points = reduce(x, {"method": "pca"}, seed=0)
    spec = {"method": method, "min_cluster_size": 10, "min_samples": 5}
    labels = cluster(points, spec, true_k=3, seed=0)
    assert labels.shape == truth.shape
    assert adjusted_rand_score(truth[labels >= 0], labels[labels >= 0]) > 0.95


def test_reference_defaults():
    assert tsne_perplexity(100) == 5 and tsne_perplexity(1000) == 20 and tsne_perplexity(12000) == 30
    assert umap_neighbors(100) == 5 and umap_neighbors(1000) == 10 and umap_neighbors(12000) == 15


def test_too_few_points_is_a_reducer_error():
    with pytest.raises(ReducerError, match=r"tsne .*needs at least"):
        reduce(np.random.default_rng(0).normal(size=(6, 4)), {"method": "tsne"}, 0)


def test_k_larger_than_sample_is_an_error():
    with pytest.raises(ClustererError, match="k=50"):
        resolve_k(50, true_k=3, n_points=10)
    assert resolve_k("true_k", true_k=3, n_points=10) == 3


def test_gmm_on_degenerate_points_fails_with_reason_not_crash():
    points = np.zeros((30, 2))
    points[:, 0] = np.repeat([0.0, 1.0, 2.0], 10)  # zero variance inside each cluster
    with pytest.raises(ClustererError, match="gmm failed"):
        cluster(points, {"method": "gmm", "reg_covar": 0.0}, true_k=3, seed=0)


def test_dbscan_eps_is_the_quantile_of_kth_true_neighbour_distance():
    points = np.array([[0.0], [1.0], [3.0], [6.0]])
    # 1st true neighbour distances: 1, 1, 2, 3 -> median 1.5
    assert quantile_eps(points, min_samples=1, quantile=0.5) == pytest.approx(1.5)


def _schema_entry(registry: str) -> dict:
    from zsc.config import load_schema

    return load_schema(SCHEMA_PATH)["properties"][registry]["additionalProperties"]


def test_the_schema_and_the_registries_declare_the_same_parameters():
    """One home per parameter: the registries declare them; the schema only types them."""
    clusterers = _schema_entry("clusterers")
    assert set(clusterers["properties"]["method"]["enum"]) == set(CLUSTERERS)
    declared = {"method"} | {name for method in CLUSTERERS.values() for name in method.params}
    assert set(clusterers["properties"]) == declared
    reducers = _schema_entry("reducers")
    assert set(reducers["properties"]["method"]["enum"]) == set(REDUCER_METHODS)
    declared = {"method", *COMMON_PARAMS} | {name for method in REDUCER_METHODS.values() for name in method.params}
    assert set(reducers["properties"]) == declared
    # the schema fills no method-specific default: that would put a parameter into every entry
    assert not [name for name, prop in clusterers["properties"].items() if "default" in prop]
    assert [name for name, prop in reducers["properties"].items() if "default" in prop] == sorted(COMMON_PARAMS)


def test_every_declared_parameter_carries_its_constraint_and_the_yaml_types_none():
    """The registries are the one home: the YAML file holds no reducer or clusterer parameter, and every
    parameter of every method declares the values it allows beside its default."""
    raw = yaml.safe_load(SCHEMA_PATH.read_text())["properties"]
    for registry, methods in (("reducers", REDUCER_METHODS), ("clusterers", CLUSTERERS)):
        assert "properties" not in raw[registry]["additionalProperties"], registry
        unconstrained = [
            f"{name}.{param_name}"
            for name, method in methods.items()
            for param_name, param in method.all_params().items()
            if not param.constraint
        ]
        assert not unconstrained, unconstrained


def test_a_parameter_two_methods_constrain_differently_is_checked_per_method():
    """min_samples of one method may allow what another's does not: the schema types it per method."""
    from zsc.config.schema import method_entry_properties
    from zsc.methods.base import Method, Param

    methods = {
        "a": Method(fit=None, params={"min_samples": Param(5, "a's", {"type": "integer", "minimum": 1})}),
        "b": Method(fit=None, params={"min_samples": Param(5, "b's", {"type": "integer", "minimum": 10})}),
    }
    properties, conditions = method_entry_properties(methods)
    assert "type" not in properties["min_samples"] and len(conditions) == 2
    schema = {"type": "object", "properties": properties, "allOf": conditions}
    import jsonschema

    jsonschema.validate({"method": "a", "min_samples": 3}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"method": "b", "min_samples": 3}, schema)


def test_the_config_readme_parameter_tables_are_generated_from_the_registries():
    """config/README.md's reducer and clusterer tables are what `python -m zsc.config.docs` writes."""
    from zsc.config.docs import generated_readme

    readme = REPO / "config" / "README.md"
    assert readme.read_text() == generated_readme(readme.read_text()), (
        "config/README.md is out of date: run `python -m zsc.config.docs` (make docs)"
    )


def test_a_parameter_its_method_does_not_declare_is_a_config_error():
    from conftest import tiny_config
    from zsc.config import ConfigError, validate_config

    config = tiny_config()
    config["clusterers"]["ward"]["min_cluster_size"] = 15
    config["reducers"]["pca"]["perplexity"] = 30
    with pytest.raises(ConfigError) as raised:
        validate_config(config, SCHEMA_PATH)
    assert (
        "config key 'clusterers.ward.min_cluster_size': not a parameter of ward; its parameters: ['k', 'connectivity', 'n_neighbors']"
        in str(raised.value)
    )
    assert "config key 'reducers.pca.perplexity': not a parameter of pca" in str(raised.value)


def test_resolved_params_list_every_declared_default():
    assert CLUSTERERS["gmm"].resolved_params({"method": "gmm", "k": 4}) == {
        "k": 4,
        "covariance_type": "full",
        "n_init": 5,
        "reg_covar": 1e-6,
    }
    assert REDUCER_METHODS["isomap"].resolved_params({"method": "isomap"}) == {
        "n_components": 2,
        "standardize": True,
        "n_neighbors": None,
        "landmarks": None,
    }
