%% Writes what OTP's term_to_binary makes of each sample, one "name<TAB>hex" a line.
%% Re-record: python -m tests.distribution.record_etf   (needs erl; writes etf_samples.txt)
-module(etf_samples).
-export([main/0]).

samples() ->
    [{"atom", atom, []},
     {"utf8 atom", 'héllo', []},
     {"long atom", list_to_atom(lists:duplicate(255, $a)), []},
     {"true", true, []},
     {"nil", nil, []},
     {"small int", 7, []},
     {"int", -70000, []},
     {"int max", 2147483647, []},
     {"small big", 1 bsl 64, []},
     {"negative big", -(1 bsl 100), []},
     {"large big", 1 bsl 2100, []},
     {"new float", 3.25, []},
     {"old float", 3.25, [{minor_version, 0}]},
     {"latin1 atom", atom, [{minor_version, 1}]},
     {"binary", <<"héllo"/utf8>>, []},
     {"non-utf8 binary", <<255, 0, 1>>, []},
     {"empty binary", <<>>, []},
     {"bit binary", <<5:3>>, []},
     {"empty tuple", {}, []},
     {"small tuple", {ok, 1}, []},
     {"large tuple", list_to_tuple(lists:seq(1, 300)), []},
     {"nil list", [], []},
     {"string", "abc", []},
     {"list", [1, 1000, atom], []},
     {"improper list", [a, b | c], []},
     {"map", #{a => 1, <<"k">> => [1.5], {1} => #{}}, []},
     {"map with list key", #{[1, 2] => x}, []},
     {"pid", c:pid(0, 85, 3), []},
     {"export", fun lists:map/2, []},
     {"compressed", lists:duplicate(100, {abc, 1}), [compressed]},
     {"nested", {[{a, [<<"b">>]}], #{c => {d, 1.0e-300}}}, []}].

main() ->
    Opts0 = [{minor_version, 2}],
    [io:format("~s\t~s~n", [Name, binary:encode_hex(term_to_binary(T, Opts0 ++ Opts))])
     || {Name, T, Opts} <- samples()],
    halt().
