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
run(etf_encode, N) ->
    T = codec_term(),
    us(fun() -> encode_loop(T, N) end, N);
run(etf_decode, N) ->
    B = term_to_binary(codec_term()),
    us(fun() -> decode_loop(B, N) end, N);
run(dist_ping_pong, N) ->
    %% Two nodes on loopback (a peer started with OTP 25's peer module): round trip.
    os:cmd("epmd -daemon"),
    {ok, _} = net_kernel:start([list_to_atom("tbench_main@127.0.0.1"), longnames]),
    {ok, Peer, Node} = peer:start_link(#{name => tbench_peer, host => "127.0.0.1",
                                         longnames => true,
                                         args => ["-pa", filename:dirname(code:which(?MODULE))]}),
    P = spawn(Node, fun pong/0),
    ping(P, 1000),
    R = us(fun() -> ping(P, N) end, N),
    P ! stop,
    peer:stop(Peer),
    R;
run(dist_flood_in, Ms) ->
    %% The memory ceiling while a peer floods a process that never reads (MB).
    {Node, OsPid} = flood_peer(),
    Sink = spawn(fun() -> receive never -> ok end end),
    erlang:garbage_collect(),
    Base = erlang:memory(total),
    spawn(Node, fun() -> flood(Sink, binary:copy(<<$x>>, 10000)) end),
    Grown = peak(Base, Base, erlang:monotonic_time(millisecond) + Ms),
    os:cmd("kill -KILL " ++ OsPid),
    Grown;
run(dist_flood_out, Ms) ->
    %% The memory ceiling while flooding a stopped peer (MB).
    {Node, OsPid} = flood_peer(),
    Sink = spawn(Node, fun() -> receive never -> ok end end),
    os:cmd("kill -STOP " ++ OsPid),
    erlang:garbage_collect(),
    Base = erlang:memory(total),
    spawn(fun() -> flood(Sink, binary:copy(<<$x>>, 10000)) end),
    Grown = peak(Base, Base, erlang:monotonic_time(millisecond) + Ms),
    os:cmd("kill -KILL " ++ OsPid),
    Grown;
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
run(skynet_lazy, N) ->
    Me = self(),
    us(fun() -> spawn(fun() -> skynet_lazy(Me, 0, N) end), receive {sum, _} -> ok end end, N);
run(fj_throughput, N) ->
    %% Savina fjthrput: 60 actors, N messages spread round-robin, each does a little work.
    Me = self(),
    Per = N div 60,
    Actors = [spawn(fun() -> fj_worker(Me, Per) end) || _ <- lists:seq(1, 60)],
    us(fun() ->
        [A ! work || _ <- lists:seq(1, Per), A <- Actors],
        [receive done -> ok end || _ <- Actors]
    end, Per * 60);
run(fj_create, N) ->
    %% Savina fjcreate: create an actor, send it one message, it works and exits.
    Me = self(),
    us(fun() ->
        [spawn(fun() -> receive work -> fj_work(), Me ! done end end) ! work || _ <- lists:seq(1, N)],
        [receive done -> ok end || _ <- lists:seq(1, N)]
    end, N);
run(big, N) ->
    %% Savina big: 100 actors each ping random peers, every ping is answered; per message.
    Me = self(),
    Per = N div 100,
    Actors = [spawn(fun() -> big_actor(Me, Per) end) || _ <- lists:seq(1, 100)],
    T = list_to_tuple(Actors),
    us(fun() ->
        [A ! {peers, T} || A <- Actors],
        [receive done -> ok end || _ <- Actors]
    end, Per * 100 * 2);
run(chameneos, N) ->
    %% A mall pairs creatures two by two until N meetings happened; per meeting.
    Me = self(),
    Mall = spawn(fun() -> mall(Me, N, none) end),
    Cs = [spawn(fun() -> creature(Mall) end) || _ <- lists:seq(1, 10)],
    R = us(fun() -> [C ! go || C <- Cs], receive meetings_done -> ok end end, N),
    [exit(C, kill) || C <- Cs],
    R;
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

skynet_lazy(Parent, Num, 1) -> Parent ! {sum, Num};
skynet_lazy(Parent, Num, Size) ->
    Me = self(),
    Sub = Size div 10,
    Sum = lists:foldl(fun(I, Acc) ->
        spawn(fun() -> skynet_lazy(Me, Num + I * Sub, Sub) end),
        receive {sum, S} -> Acc + S end
    end, 0, lists:seq(0, 9)),
    Parent ! {sum, Sum}.

fj_work() -> lists:foldl(fun(X, A) -> A + X * X end, 0, lists:seq(1, 10)).

fj_worker(Me, 0) -> Me ! done;
fj_worker(Me, N) -> receive work -> fj_work(), fj_worker(Me, N - 1) end.

big_actor(Me, Per) ->
    receive {peers, T} -> big_loop(Me, T, Per, Per) end.

big_loop(Me, _T, 0, 0) -> Me ! done, big_serve();
big_loop(Me, T, ToSend, Waiting) ->
    case ToSend of
        0 -> ok;
        _ -> element(rand:uniform(tuple_size(T)), T) ! {ping, self()}
    end,
    receive
        {ping, From} -> From ! pong, big_loop(Me, T, max(ToSend - 1, 0), Waiting);
        pong -> big_loop(Me, T, max(ToSend - 1, 0), Waiting - 1)
    end.

big_serve() -> receive {ping, From} -> From ! pong, big_serve() end.

mall(Me, 0, _) -> Me ! meetings_done, mall_drain();
mall(Me, N, none) -> receive {meet, C} -> mall(Me, N, C) end;
mall(Me, N, First) -> receive {meet, C} -> First ! {met, C}, C ! {met, First}, mall(Me, N - 1, none) end.

mall_drain() -> receive _ -> mall_drain() end.

creature(Mall) -> receive go -> creature_loop(Mall) end.
creature_loop(Mall) -> Mall ! {meet, self()}, receive {met, _} -> creature_loop(Mall) end.

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

%% The codec rows: one representative message, as tether's and the peers' rows use.
codec_term() ->
    {ok, <<"key-123">>,
     #{name => <<"tether">>, tags => [a, b], n => 12345, vals => lists:seq(0, 49)},
     3.14, binary:copy(<<255>>, 64), [{I, x} || I <- lists:seq(0, 9)]}.

%% Each loop keeps a result, so the compiler cannot drop the call.
encode_loop(T, N) -> encode_loop(T, N, 0).
encode_loop(_, 0, Acc) -> Acc;
encode_loop(T, N, Acc) -> encode_loop(T, N - 1, Acc + byte_size(term_to_binary(T))).

decode_loop(B, N) -> decode_loop(B, N, 0).
decode_loop(_, 0, Acc) -> Acc;
decode_loop(B, N, Acc) -> decode_loop(B, N - 1, Acc + tuple_size(binary_to_term(B))).

flood_peer() ->
    os:cmd("epmd -daemon"),
    {ok, _} = net_kernel:start([list_to_atom("tbench_main@127.0.0.1"), longnames]),
    {ok, _Peer, Node} = peer:start(#{name => tbench_peer, host => "127.0.0.1",
                                     longnames => true,
                                     args => ["-pa", filename:dirname(code:which(?MODULE))]}),
    {Node, rpc:call(Node, os, getpid, [])}.

flood(To, B) -> To ! B, flood(To, B).

peak(Base, Peak, End) ->
    case erlang:monotonic_time(millisecond) >= End of
        true -> (Peak - Base) / 1.0e6;
        false ->
            timer:sleep(20),
            peak(Base, max(Peak, erlang:memory(total)), End)
    end.
