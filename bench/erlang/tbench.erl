%% tether's benchmark workloads on the BEAM, the reference every ratio is taken to.
%% Compiled by the bench at run time; `erl -noshell -s tbench main Workload Size`
%% prints one number: microseconds per operation (or bytes per process).
-module(tbench).
-export([main/1]).

main([W, N]) ->
    %% Crash and supervisor reports would flood the output and time the logger.
    logger:set_primary_config(level, none),
    Size = list_to_integer(atom_to_list(N)),
    Result = run(W, Size),
    io:format("~p~n", [Result]),
    halt().

us(Fun, Ops) ->
    {T, _} = timer:tc(Fun),
    T / Ops.

run(spawn_exit_down, N) ->
    us(fun() -> spawn_loop(N) end, N);
run(idle_memory, N) ->
    Me = self(),
    erlang:garbage_collect(),
    Before = erlang:memory(processes),
    Pids = [spawn(fun() -> Me ! up, receive stop -> ok end end) || _ <- lists:seq(1, N)],
    [receive up -> ok end || _ <- Pids],
    After = erlang:memory(processes),
    [P ! stop || P <- Pids],
    (After - Before) / N;
run(ping_pong, N) ->
    P = spawn(fun pong/0),
    R = us(fun() -> ping(P, N) end, N),
    P ! stop,
    R;
run(counting, N) ->
    Me = self(),
    C = spawn(fun() -> count(Me, 0) end),
    us(fun() -> [C ! inc || _ <- lists:seq(1, N)], C ! {get, Me}, receive {count, N} -> ok end end, N);
run(thread_ring, Hops) -> ring(100, Hops);
run(ring_1000, Hops) -> ring(1000, Hops);
run(skynet, N) ->
    Me = self(),
    us(fun() -> spawn(fun() -> skynet(Me, 0, N, 10) end), receive {sum, _} -> ok end end, N);
run(selective_10k, Rounds) ->
    Me = self(),
    [Me ! {noise, I} || I <- lists:seq(1, 10000)],
    R = us(fun() -> sel(Me, Rounds) end, Rounds),
    flush_all(),
    R;
run(gen_call, N) ->
    {ok, S} = gen_server:start(tbench_server, [], []),
    us(fun() -> [gen_server:call(S, ping) || _ <- lists:seq(1, N)] end, N);
run(link_crash, N) ->
    process_flag(trap_exit, true),
    us(fun() -> link_loop(N) end, N);
run(sup_restart, N) ->
    Me = self(),
    {ok, _Sup} = tbench_sup:start(Me),
    First = receive {started, P0} -> P0 end,
    us(fun() -> restart_loop(First, N) end, N);
run(timers, N) ->
    Me = self(),
    us(fun() ->
        [spawn(fun() -> receive after 10 -> Me ! done end end) || _ <- lists:seq(1, N)],
        [receive done -> ok end || _ <- lists:seq(1, N)]
    end, N).

spawn_loop(0) -> ok;
spawn_loop(N) ->
    {P, R} = spawn_monitor(fun() -> ok end),
    receive {'DOWN', R, process, P, normal} -> ok end,
    spawn_loop(N - 1).

pong() ->
    receive
        stop -> ok;
        From -> From ! pong, pong()
    end.

ping(_, 0) -> ok;
ping(P, N) -> P ! self(), receive pong -> ok end, ping(P, N - 1).

count(Me, N) ->
    receive
        inc -> count(Me, N + 1);
        {get, From} -> From ! {count, N}
    end.

ring(Size, Hops) ->
    Me = self(),
    First = lists:foldl(fun(_, Next) -> spawn(fun() -> ring_node(Next) end) end, Me, lists:seq(1, Size - 1)),
    %% The ring closes through us: we forward once per lap until the count runs out.
    us(fun() -> First ! Hops, ring_main(First) end, Hops).

ring_node(Next) ->
    receive
        0 -> Next ! 0;
        N -> Next ! N - 1, ring_node(Next)
    end.

ring_main(First) ->
    receive
        0 -> ok;
        N -> First ! N - 1, ring_main(First)
    end.

skynet(Parent, Num, 1, _) -> Parent ! {sum, Num};
skynet(Parent, Num, Size, Div) ->
    Me = self(),
    Sub = Size div Div,
    [spawn(fun() -> skynet(Me, Num + I * Sub, Sub, Div) end) || I <- lists:seq(0, Div - 1)],
    Sum = lists:sum([receive {sum, S} -> S end || _ <- lists:seq(1, Div)]),
    Parent ! {sum, Sum}.

sel(_, 0) -> ok;
sel(Me, N) ->
    Ref = make_ref(),
    Me ! {Ref, reply},
    receive {Ref, reply} -> ok end,
    sel(Me, N - 1).

flush_all() -> receive _ -> flush_all() after 0 -> ok end.

link_loop(0) -> ok;
link_loop(N) ->
    P = spawn_link(fun() -> exit(crash) end),
    receive {'EXIT', P, crash} -> ok end,
    link_loop(N - 1).

restart_loop(_, 0) -> ok;
restart_loop(P, N) ->
    P ! crash,
    receive {started, New} -> restart_loop(New, N - 1) end.
