import json
def test_probe(build, grade, reference_submission, stub_submission):
    ref = reference_submission("a2_neural_nets")
    r = grade("a2_neural_nets", ref, only=["fc_layers", "fc_losses", "fc_sandwich", "fc_two_layer_net", "fc_multilayer_net", "fc_optimizers", "norm_batchnorm", "norm_layernorm", "norm_dropout", "norm_fc_net", "fc_best_model"])
    print("WALL", r.wall_seconds, r.score, r.max_score)
    for t in r.results["tests"]:
        print(t["score"], t["max_score"], t["name"], t.get("output", "")[:300].replace("\n", " | "))
    s = grade("a2_neural_nets", stub_submission("a2_neural_nets"), only=["fc_layers", "fc_losses", "fc_sandwich", "fc_two_layer_net", "fc_multilayer_net", "fc_optimizers", "norm_batchnorm", "norm_layernorm", "norm_dropout", "norm_fc_net", "fc_best_model"])
    print("STUB WALL", s.wall_seconds, s.score, s.max_score)
    for t in s.results["tests"][:50]:
        print(t["score"], t["max_score"], t["name"], t.get("output", "")[:200].replace("\n", " | "))
