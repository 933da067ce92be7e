-module(tbench_sup).
-behaviour(supervisor).
-export([start/1, init/1, start_child/1, child/1]).
start(Report) -> supervisor:start_link(?MODULE, Report).
init(Report) ->
    {ok, {#{strategy => one_for_one, intensity => 100000000, period => 1},
          [#{id => c, start => {?MODULE, start_child, [Report]}}]}}.
start_child(Report) ->
    Pid = spawn_link(fun() -> Report ! {started, self()}, child(ok) end),
    {ok, Pid}.
child(_) -> receive crash -> exit(crash) end.
